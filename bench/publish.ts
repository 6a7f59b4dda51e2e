/**
 * The end of a run: the figures summarized, written to `results.json`, `results.md` and
 * `chart.svg`, printed, and with `--update-readme` put into README.md; and the progress line
 * after each run.
 *
 * @module
 */

import { root } from "../tests/_support/process.ts";
import type { LayerResult } from "./layers_run.ts";
import { layersMarkdown } from "./layers_run.ts";
import { peersMarkdown } from "./peers_table.ts";
import { type RunRecord, summarize } from "./report.ts";
import { ordered, PEERS, type Scenario, scenarios, SUBJECTS } from "./scenarios.ts";
import { chart } from "./svg.ts";
import { markdown } from "./table.ts";

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

/** Where and how `publish` writes. */
export interface PublishOptions {
  /** The folder of results.json, results.md and chart.svg, ending in "/". */
  outDir: string;
  /** Whether to put the table in README.md (full runs only). */
  updateReadme: boolean;
}

/**
 * Summarizes the runs, writes results.json, results.md and chart.svg, prints the table;
 * resolves with the exit code (1 when any run was invalid). The README gets the main table
 * and the layers; results.md also the peers and events table.
 */
export async function publish(
  records: RunRecord[],
  environment: Record<string, string | number | boolean>,
  opts: PublishOptions,
  full: boolean,
  layers: LayerResult[],
): Promise<number> {
  const { list, storm } = scenarios(environment.quick === true);
  const subjects = ordered(
    [...SUBJECTS, ...PEERS].filter((s) => records.some((r) => r.subject === s.id)),
  );
  const summary = summarize(records, list, subjects, storm);
  const results = { environment, summary, runs: records, layers };
  await Deno.mkdir(opts.outDir, { recursive: true });
  const layersTable = layers.length ? "\n" + layersMarkdown(layers) : "";
  const table = markdown(summary, environment) + layersTable;
  const peers = peersMarkdown(summary, subjects, String(environment.peers ?? ""));
  const all = markdown(summary, environment) + (peers ? "\n" + peers : "") + layersTable;
  await Deno.writeTextFile(`${opts.outDir}results.json`, JSON.stringify(results, null, 2) + "\n");
  await Deno.writeTextFile(`${opts.outDir}results.md`, all);
  await Deno.writeTextFile(`${opts.outDir}chart.svg`, chart(summary, environment));
  if (opts.updateReadme) {
    if (full) await updateReadme(table);
    else {console.log(
        "--update-readme ignored: only a full run of every scenario goes in the README",
      );}
  }
  console.log("\n" + all);
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

/** The line printed after one run of a scenario. */
export function progress(scenario: Scenario, r: RunRecord): string {
  const head = `  ${scenario.id} ${r.subject} #${r.rep}`;
  if (!r.valid) return `${head}: INVALID ${r.errors.join("; ")}`;
  const res = r.result!;
  const cpu = `server ${(res.serverCpuMs / res.seconds / 10).toFixed(0)}% client ${
    (res.clientCpuMs / res.seconds / 10).toFixed(0)
  }% others ${((res.otherCpuMs ?? NaN) / res.seconds / 10).toFixed(0)}%`;
  // A figure the run could not measure arrives as null (NaN in JSON).
  const n = (v: number | null | undefined, digits = 0) => (v ?? NaN).toFixed(digits);
  switch (scenario.kind) {
    case "idle":
      return `${head}: ${
        r.steps?.map((s) => `${s.label}:${(s.rssKiB / 1024).toFixed(1)}MiB`).join(" ")
      }, broadcast ${n(res.extra.broadcastMs, 1)} ms`;
    case "cycles":
      return `${head}: ${r.steps?.map((s) => `${(s.rssKiB / 1024).toFixed(1)}`).join(" ")} MiB`;
    case "latency":
      return `${head}: ${n(res.perSecond)}/s p50 ${n(res.latency?.p50)} p99 ${
        n(res.latency?.p99)
      } p99.9 ${n(res.latency?.p999)} µs, ${cpu}`;
    case "events":
      return `${head}: ${res.perSecond.toFixed(0)} answers/s, ${
        ((res.extra.wireBytes ?? NaN) / res.count).toFixed(0)
      } B per round trip, ${cpu}`;
    case "fanout":
      return `${head}: ${n(res.perSecond)} deliveries/s, p99 ${n(res.latency?.p99)} µs at ${
        n(res.extra.fixedRateDeliveriesPerSec)
      }/s, ${cpu}`;
    default:
      return `${head}: ${res.perSecond.toFixed(0)}/s, ${cpu}`;
  }
}
