/**
 * The benchmark orchestrator: `deno task bench [--quick] [--peers] [--only a,b]
 * [--subjects x,y] [--reps N] [--no-pin] [--out dir/] [--update-readme]
 * [--summarize results.json]`.
 *
 * For every scenario and repetition it starts each subject as its own process (pinned to
 * CPU 0 when `taskset` works), drives it with the load client (pinned to CPU 1), alternates
 * the subject order from one repetition to the next, and kills every process it started.
 * A subject runs the scenarios its modes allow. `--peers` (or a peer named in `--subjects`)
 * adds the peers, installed on demand (`peers/install.ts`; skipped, with a message, where
 * npm cannot install them). It prints the wskit / raw table and the peers and events table,
 * writes `results.json` (every run; git ignores it), `results.md` and `chart.svg`
 * (committed) to `bench/results/` (`bench/results/quick/` with `--quick`, all ignored), and
 * exits 1 when any run was invalid: lost or corrupted messages, a subject that failed to
 * start or died. Figures themselves never fail the run. `--update-readme` (full runs only) also puts the table and
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
import { preparePeers } from "./peers/install.ts";
import { alive, memoryKiB } from "./proc.ts";
import { progress, publish } from "./publish.ts";
import { newRecord, type RunRecord } from "./report.ts";
import { ordered, PEERS, type Scenario, scenarios, type Subject, SUBJECTS } from "./scenarios.ts";
import { type LayerResult, runLayers } from "./layers_run.ts";
import { runStorm } from "./storm.ts";
import { recordRun, startLoadClient, startServer } from "./subject.ts";

interface Options {
  quick: boolean;
  updateReadme: boolean;
  summarize: string | undefined;
  only: string[] | undefined;
  subjects: Subject[];
  /** Whether the subjects are the default set (no `--subjects`). */
  allSubjects: boolean;
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
  const known = [...SUBJECTS, ...PEERS];
  const defaults = args.includes("--peers") ? known : SUBJECTS;
  return {
    quick,
    updateReadme: args.includes("--update-readme"),
    summarize: value("summarize"),
    only,
    subjects: ordered(ids ? known.filter((s) => ids.includes(s.id)) : defaults),
    allSubjects: ids === undefined,
    reps: reps === undefined ? undefined : Number(reps),
    pin: !args.includes("--no-pin"),
    outDir: value("out") ?? `${root}bench/results/${quick ? "quick/" : ""}`,
  };
}

/**
 * Reads the subject's RSS as a monitoring system sees it (2 s after the step, no collection
 * forced: garbage each upgrade left counts), then its RSS and JS heap (KiB) after two full
 * collections and a short settle.
 */
async function settledMemory(
  server: Child,
): Promise<{ rssKiB: number; heapKiB: number; rssNoGcKiB: number }> {
  await pause(2000);
  const rssNoGcKiB = memoryKiB(server.pid).rss;
  let heap = NaN;
  for (let i = 0; i < 2; i++) {
    const done = server.nextLine(/^gc done \d+$/, 20_000);
    await server.write("gc\n");
    heap = Number((await done).slice(8));
    await pause(250);
  }
  return { rssKiB: memoryKiB(server.pid).rss, heapKiB: heap / 1024, rssNoGcKiB };
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
    const wire = subject.wire ? { wire: subject.wire } : {};
    const job: Job = { ...scenario.job, ...wire, port: s.port, serverPid: server.pid };
    const client = own(startLoadClient(job, pin));
    const steps: NonNullable<RunRecord["steps"]> = [];
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
  const peers = opts.subjects.some((s) => s.kind === "peer");
  console.log(
    `wskit bench${opts.quick ? " --quick" : ""}${
      peers ? " --peers" : ""
    }: ${env.deno}, bun ${env.bun}, ${env.cpus} CPUs, ` +
      (pin ? "subject pinned to CPU 0, load client to CPU 1" : "not pinned"),
  );
  const setup = await preparePeers(opts.subjects);
  opts.subjects = setup.subjects;
  if (setup.versions) env.peers = setup.versions;
  const stormed = !opts.only || opts.only.includes("storm");
  // What each subject cannot run, said once: subjects grouped by what they skip and why.
  const skips = new Map<string, string[]>();
  for (const s of opts.subjects) {
    const not = selected.filter((sc) => !s.modes.includes(sc.mode)).map((sc) => sc.id);
    if (stormed && !s.modes.includes("echo")) not.push("storm");
    const key = `${not.join(", ")}: ${s.note}`;
    if (not.length) skips.set(key, [...skips.get(key) ?? [], s.id]);
  }
  for (const [what, ids] of skips) console.log(`  not run by ${ids.join(", ")}: ${what}`);
  const started = performance.now();
  const records: RunRecord[] = [];
  if (!opts.only || opts.only.includes("micro")) {
    for (let rep = 0; rep < (opts.reps ?? microReps); rep++) {
      for (const runtime of ["deno", "bun"] as const) {
        if (!opts.subjects.some((s) => s.runtime === runtime && s.kind !== "peer")) continue;
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
        if (!subject.modes.includes(scenario.mode)) continue;
        const r = await runOne(scenario, subject, rep, pin);
        records.push(r);
        console.log(progress(scenario, r));
      }
    }
  }
  if (stormed) {
    const reps = opts.reps ?? storm.reps;
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 ? [...opts.subjects].reverse() : opts.subjects;
      for (const subject of order) {
        if (!subject.modes.includes("echo")) continue;
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
  const full = !opts.quick && !opts.only && opts.reps === undefined && opts.allSubjects;
  return await publish(records, envEnd, opts, full, layers);
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
