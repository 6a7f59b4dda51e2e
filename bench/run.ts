/**
 * The benchmark orchestrator: `deno task bench [--quick] [--only a,b] [--subjects x,y]
 * [--reps N] [--no-pin] [--out dir/] [--update-readme] [--summarize results.json]`.
 *
 * For every scenario and repetition it starts each subject as its own process (pinned to
 * CPU 0 when `taskset` works), drives it with the load client (pinned to CPU 1), alternates
 * the subject order from one repetition to the next, and kills every process it started.
 * It prints the wskit / raw table, writes `results.json` (every run; git ignores it),
 * `results.md` and `chart.svg` (committed) to `bench/results/` (`bench/results/quick/` with
 * `--quick`, all ignored), and exits 1 when any run was
 * invalid: lost or corrupted messages, a subject that failed to start or died. Figures
 * themselves never fail the run. `--update-readme` (full runs only) also puts the table and
 * the chart into README.md, between its `bench:results` markers. `--summarize` recomputes the
 * figures, table and chart of a saved `results.json` without running anything.
 *
 * @module
 */

import {
  canPin,
  type Child,
  killAll,
  onCpu,
  root,
  runArgs,
  runtimeBin,
  spawn,
} from "../tests/_support/process.ts";
import { pause } from "../tests/_support/wait.ts";
import { bareResult, type Job, type JobResult } from "./load/window.ts";
import { alive, memoryKiB } from "./proc.ts";
import { markdown, newRecord, type RunRecord, summarize } from "./report.ts";
import { type Scenario, scenarios, type Subject, SUBJECTS } from "./scenarios.ts";
import { type LayerResult, layersMarkdown, runLayers } from "./layers_run.ts";
import { runStorm } from "./storm.ts";
import { recordRun, startLoadClient, startServer } from "./subject.ts";
import { chart } from "./svg.ts";

interface Options {
  quick: boolean;
  updateReadme: boolean;
  summarize: string | undefined;
  only: string[] | undefined;
  subjects: Subject[];
  reps: number | undefined;
  pin: boolean;
  outDir: string;
}

function parseArgs(args: string[]): Options {
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quick = args.includes("--quick");
  const only = value("only")?.split(",");
  const ids = value("subjects")?.split(",");
  const reps = value("reps");
  return {
    quick,
    updateReadme: args.includes("--update-readme"),
    summarize: value("summarize"),
    only,
    subjects: ids ? SUBJECTS.filter((s) => ids.includes(s.id)) : [...SUBJECTS],
    reps: reps === undefined ? undefined : Number(reps),
    pin: !args.includes("--no-pin"),
    outDir: value("out") ?? `${root}bench/results/${quick ? "quick/" : ""}`,
  };
}

/** Reads the subject's RSS and JS heap (KiB) after two full collections and a short settle. */
async function settledMemory(server: Child): Promise<{ rssKiB: number; heapKiB: number }> {
  let heap = NaN;
  for (let i = 0; i < 2; i++) {
    const done = server.nextLine(/^gc done \d+$/, 20_000);
    await server.write("gc\n");
    heap = Number((await done).slice(8));
    await pause(250);
  }
  return { rssKiB: memoryKiB(server.pid).rss, heapKiB: heap / 1024 };
}

async function runOne(
  scenario: Scenario,
  subject: Subject,
  rep: number,
  pin: boolean,
): Promise<RunRecord> {
  const record = newRecord(scenario.id, subject.id, rep);
  return await recordRun(record, async (own) => {
    const s = await startServer(subject, scenario.mode, 0, pin);
    const server = own(s.server);
    const job: Job = { ...scenario.job, port: s.port, serverPid: server.pid };
    const client = own(startLoadClient(job, pin));
    const steps: { label: string; rssKiB: number; heapKiB: number }[] = [];
    let stepping = Promise.resolve();
    const c = client, srv = server;
    c.onLine((line) => {
      if (!line.startsWith("step ")) return;
      stepping = stepping.then(async () => {
        steps.push({ label: line.slice(5), ...await settledMemory(srv) });
        await c.write("next\n");
      }).catch((e) => {
        record.errors.push(`memory step failed: ${(e as Error).message}`);
      });
    });
    const capMs = scenario.job.warmupMs * 2 + scenario.job.measureMs * 2 + 120_000;
    const line = await client.waitForLine(/^result /, capMs);
    await client.exited;
    await stepping;
    const result = JSON.parse(line.slice(7)) as JobResult;
    record.result = result;
    record.errors.push(...result.errors);
    if (steps.length) record.steps = steps;
    if (!alive(server.pid)) record.errors.push(`${subject.id} died during the run`);
    else record.hwmKiB = memoryKiB(server.pid).hwm;
    const stderr = server.stderr().trim();
    if (stderr) record.errors.push(`${subject.id} wrote to stderr: ${stderr.slice(0, 300)}`);
    record.valid = result.valid && record.errors.length === 0;
  });
}

/**
 * Runs `micro_bench.ts` as a program on `runtime` (pinned to CPU 0) and splits its figures
 * into a raw and a wskit record.
 */
async function runMicro(runtime: "deno" | "bun", rep: number, pin: boolean): Promise<RunRecord[]> {
  const started = performance.now();
  const command = runArgs(runtime, "bench/micro_bench.ts", [], { deno: ["--allow-read"] });
  const child = spawn(...onCpu(pin ? 0 : undefined, command));
  const records = (["raw", "wskit"] as const).map((kind) =>
    newRecord("micro", `${runtime}_${kind}`, rep)
  );
  try {
    const line = await child.waitForLine(/^result /, 120_000);
    const f = JSON.parse(line.slice(7)) as Record<string, number>;
    records.forEach((r, i) => {
      const kind = i === 0 ? "raw" : "wskit";
      const broadcast = f[`${kind}DeliveryNs`] ?? f[`${kind}PublishNs`] ?? NaN;
      r.result = bareResult([], { echoNs: f[`${kind}EchoNs`] ?? NaN, broadcastNs: broadcast });
      r.valid = true;
    });
  } catch (e) {
    for (const r of records) r.errors.push((e as Error).message);
  } finally {
    await child.stop();
    for (const r of records) r.wallMs = performance.now() - started;
  }
  return records;
}

const README_START = "<!-- bench:results:start -->";
const README_END = "<!-- bench:results:end -->";

/** Puts the table and the chart of a full run between the README's result markers. */
async function updateReadme(table: string): Promise<void> {
  const path = `${root}README.md`;
  const readme = await Deno.readTextFile(path);
  const start = readme.indexOf(README_START), end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`Cannot update ${path}: no result markers`);
  const block = `${README_START}\n${table}\n![wskit / raw per scenario](bench/results/chart.svg)\n`;
  await Deno.writeTextFile(path, readme.slice(0, start) + block + readme.slice(end));
  // deno fmt aligns the table, so that `deno task check` stays clean.
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", path] }).output();
  if (!fmt.success) {
    throw new Error(`Cannot format ${path}: ${new TextDecoder().decode(fmt.stderr)}`);
  }
  console.log(`README.md: results updated`);
}

/** Runtime versions and the machine, for the results. */
async function environment(pin: boolean): Promise<Record<string, string | number | boolean>> {
  const out = async (runtime: "deno" | "bun", args: string[]) =>
    new TextDecoder().decode(
      (await new Deno.Command(runtimeBin(runtime), { args }).output()).stdout,
    )
      .trim();
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ?? "";
  return {
    date: new Date().toISOString(),
    deno: (await out("deno", ["--version"])).split("\n")[0] ?? "",
    bun: await out("bun", ["--version"]),
    kernel: Deno.osRelease(),
    cpu,
    cpus: navigator.hardwareConcurrency,
    pinned: pin,
    loadavg: Deno.loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}

async function main(): Promise<number> {
  const opts = parseArgs(Deno.args);
  if (opts.summarize) {
    // Figures again from a saved run, e.g. after a change to how they are summarized.
    const saved = JSON.parse(await Deno.readTextFile(opts.summarize)) as {
      environment: Record<string, string | number | boolean>;
      runs: RunRecord[];
      layers?: LayerResult[];
    };
    const e = saved.environment;
    const runs = new Set(saved.runs.map((r) => r.scenario)).size;
    return await publish(saved.runs, e, opts, e.quick !== true && runs >= 10, saved.layers ?? []);
  }
  const pin = opts.pin && navigator.hardwareConcurrency >= 2 && await canPin();
  const { list, storm, microReps } = scenarios(opts.quick);
  const selected = list.filter((s) => !opts.only || opts.only.includes(s.id));
  const env = await environment(pin);
  console.log(
    `wskit bench${opts.quick ? " --quick" : ""}: ${env.deno}, bun ${env.bun}, ${env.cpus} CPUs, ` +
      (pin ? "subject pinned to CPU 0, load client to CPU 1" : "not pinned"),
  );
  const started = performance.now();
  const records: RunRecord[] = [];
  if (!opts.only || opts.only.includes("micro")) {
    for (let rep = 0; rep < (opts.reps ?? microReps); rep++) {
      for (const runtime of ["deno", "bun"] as const) {
        if (!opts.subjects.some((s) => s.runtime === runtime)) continue;
        const pair = await runMicro(runtime, rep, pin);
        records.push(...pair);
        const [raw, kit] = pair as [RunRecord, RunRecord];
        console.log(
          `  micro ${runtime} #${rep}: ` +
            (raw.valid
              ? `echo ${raw.result?.extra.echoNs?.toFixed(1)} / ${
                kit.result?.extra.echoNs?.toFixed(1)
              } ns, broadcast ${raw.result?.extra.broadcastNs?.toFixed(1)} / ${
                kit.result?.extra.broadcastNs?.toFixed(1)
              } ns (raw / wskit)`
              : `INVALID ${raw.errors.join("; ")}`),
        );
      }
    }
  }
  for (const scenario of selected) {
    const reps = opts.reps ?? scenario.reps;
    for (let rep = 0; rep < reps; rep++) {
      // Alternate the order so that warm-up, heat and background drift do not favour one.
      const order = rep % 2 ? [...opts.subjects].reverse() : opts.subjects;
      for (const subject of order) {
        const r = await runOne(scenario, subject, rep, pin);
        records.push(r);
        console.log(progress(scenario, r));
      }
    }
  }
  if (!opts.only || opts.only.includes("storm")) {
    const reps = opts.reps ?? storm.reps;
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 ? [...opts.subjects].reverse() : opts.subjects;
      for (const subject of order) {
        const r = await runStorm(subject, rep, storm.clients, pin);
        records.push(r);
        console.log(
          `  storm ${subject.id} #${rep}: ${
            r.valid
              ? `${r.result?.extra.allBackMs?.toFixed(0)} ms`
              : `INVALID ${r.errors.join("; ")}`
          }`,
        );
      }
    }
  }
  let layers: LayerResult[] = [];
  if (!opts.only || opts.only.includes("layers")) {
    // Session layer, Redis relay and soak: wskit against itself, on each runtime.
    layers = await runLayers(opts.quick);
    for (const l of layers) {
      console.log(
        `  layers ${l.runtime} ${l.name}: ${
          l.valid ? JSON.stringify(l.figures) : `INVALID ${l.errors.join("; ")}`
        }`,
      );
    }
  }
  const durationS = (performance.now() - started) / 1000;
  const loadavgEnd = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  const envEnd = { ...env, loadavgEnd, durationS: Math.round(durationS), quick: opts.quick };
  const full = !opts.quick && !opts.only && opts.reps === undefined && opts.subjects.length === 4;
  return await publish(records, envEnd, opts, full, layers);
}

/** Summarizes the runs, writes results.json, results.md and chart.svg, prints the table. */
async function publish(
  records: RunRecord[],
  environment: Record<string, string | number | boolean>,
  opts: Options,
  full: boolean,
  layers: LayerResult[],
): Promise<number> {
  const { list, storm } = scenarios(environment.quick === true);
  const summary = summarize(records, list, opts.subjects, storm);
  const results = { environment, summary, runs: records, layers };
  await Deno.mkdir(opts.outDir, { recursive: true });
  const table = markdown(summary, environment) +
    (layers.length ? "\n" + layersMarkdown(layers) : "");
  await Deno.writeTextFile(`${opts.outDir}results.json`, JSON.stringify(results, null, 2) + "\n");
  await Deno.writeTextFile(`${opts.outDir}results.md`, table);
  await Deno.writeTextFile(`${opts.outDir}chart.svg`, chart(summary, environment));
  if (opts.updateReadme) {
    if (full) await updateReadme(table);
    else {console.log(
        "--update-readme ignored: only a full run of every scenario goes in the README",
      );}
  }
  console.log("\n" + table);
  const invalid = records.filter((r) => !r.valid);
  const badLayers = layers.filter((l) => !l.valid);
  console.log(
    `${records.length + layers.length} runs in ${environment.durationS} s, ` +
      `${invalid.length + badLayers.length} invalid; results in ${opts.outDir}`,
  );
  for (const r of invalid) {
    console.log(`INVALID ${r.scenario} ${r.subject} #${r.rep}: ${r.errors.join("; ")}`);
  }
  for (const l of badLayers) {
    console.log(`INVALID layers ${l.runtime} ${l.name}: ${l.errors.join("; ")}`);
  }
  return invalid.length || badLayers.length ? 1 : 0;
}

function progress(scenario: Scenario, r: RunRecord): string {
  const head = `  ${scenario.id} ${r.subject} #${r.rep}`;
  if (!r.valid) return `${head}: INVALID ${r.errors.join("; ")}`;
  const res = r.result!;
  const cpu = `server ${(res.serverCpuMs / res.seconds / 10).toFixed(0)}% client ${
    (res.clientCpuMs / res.seconds / 10).toFixed(0)
  }% others ${((res.otherCpuMs ?? NaN) / res.seconds / 10).toFixed(0)}%`;
  switch (scenario.kind) {
    case "idle":
      return `${head}: ${
        r.steps?.map((s) => `${s.label}:${(s.rssKiB / 1024).toFixed(1)}MiB`).join(" ")
      }, broadcast ${res.extra.broadcastMs?.toFixed(1)} ms`;
    case "cycles":
      return `${head}: ${r.steps?.map((s) => `${(s.rssKiB / 1024).toFixed(1)}`).join(" ")} MiB`;
    case "latency":
      return `${head}: ${res.perSecond.toFixed(0)}/s p50 ${res.latency?.p50.toFixed(0)} p99 ${
        res.latency?.p99.toFixed(0)
      } p99.9 ${res.latency?.p999.toFixed(0)} µs, ${cpu}`;
    case "fanout":
      return `${head}: ${res.perSecond.toFixed(0)} deliveries/s, p99 ${
        res.latency?.p99.toFixed(0)
      } µs at ${res.extra.fixedRateDeliveriesPerSec?.toFixed(0)}/s, ${cpu}`;
    default:
      return `${head}: ${res.perSecond.toFixed(0)}/s, ${cpu}`;
  }
}

let code = 1;
const stop = () => {
  console.log("interrupted: stopping every process this run started");
  killAll().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
try {
  code = await main();
} catch (e) {
  console.error(e);
} finally {
  await killAll();
}
Deno.exit(code);
