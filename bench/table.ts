/**
 * The main results table: wskit beside the bare runtime it runs on, per scenario, with the
 * absolute figures and the wskit / raw ratios, then the targets checked.
 *
 * @module
 */

import { fmt, type Summary } from "./report.ts";
import type { Kind } from "./scenarios.ts";
import type { Spread } from "./stats.ts";

/** Rows of the table per kind: [figure, label]. */
const ROWS: Record<Exclude<Kind, "events">, [string, string][]> = {
  throughput: [
    ["perSecond", "echoes/s"],
    ["cpuUs", "server CPU per echo"],
    ["serverPct", "server CPU"],
    ["clientPct", "client CPU"],
    ["otherPct", "other processes' CPU"],
  ],
  latency: [
    ["p50", "p50"],
    ["p99", "p99"],
    ["p999", "p99.9"],
    ["perSecond", "echoes/s"],
    ["cpuUs", "server CPU per echo"],
    ["otherPct", "other processes' CPU"],
  ],
  chat: [
    ["perSecond", "deliveries/s"],
    ["cpuUs", "server CPU per delivery"],
    ["serverPct", "server CPU"],
    ["clientPct", "client CPU"],
    ["otherPct", "other processes' CPU"],
  ],
  fanout: [
    ["perSecond", "deliveries/s (8 in flight)"],
    ["cpuUs", "server CPU per delivery"],
    ["clientPct", "client CPU"],
    ["otherPct", "other processes' CPU"],
    ["p50", "p50 at fixed rate"],
    ["p99", "p99 at fixed rate"],
    ["p999", "p99.9 at fixed rate"],
  ],
  idle: [
    ["mibPer1000", "RSS per 1 000 connections"],
    ["kibPerConn", "RSS per connection"],
    ["heapKibPerConn", "of which JS heap"],
    ["noGcKibPerConn", "RSS per connection, no GC forced (2 s after)"],
    ["rss0MiB", "RSS with none"],
    ["rssMaxMiB", "RSS at the top"],
    ["conns", "connections held"],
    ["broadcastMs", "broadcast to all"],
  ],
  cycles: [
    ["kibPerCycle", "RSS trend per cycle"],
    ["heapKibPerCycle", "JS heap trend per cycle"],
    ["growthKiB", "RSS growth over the cycles"],
    ["rss0MiB", "RSS after the warm-up cycles"],
  ],
  micro: [
    ["echoNs", "ns per echo"],
    ["broadcastNs", "ns per broadcast (Deno: per delivery, Bun: per publish)"],
  ],
  storm: [
    ["allBackMs", "all reconnected"],
    ["p50BackMs", "median client back"],
    ["serverUpMs", "restart to listening"],
  ],
};

/** The subjects of the main table. */
const MAIN = ["deno_raw", "deno_wskit", "bun_raw", "bun_wskit"];

/** A figure's median, with its range over the repetitions when they differ. */
export function cell(s: Spread | undefined, fig: string): string {
  if (!s || !Number.isFinite(s.median)) return "–";
  const range = s.n > 1 && s.min !== s.max ? ` (${fmt(fig, s.min)}–${fmt(fig, s.max)})` : "";
  return fmt(fig, s.median) + range;
}

/** A ratio as `0.97x`, or a dash. */
export function ratioOf(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "–" : `${v.toFixed(2)}x`;
}

/**
 * The results as Markdown: the ratio table with absolute figures, then the targets. The
 * events scenario has no raw subject: `peers_table.ts` shows it.
 */
export function markdown(summary: Summary, env: Record<string, unknown>): string {
  const lines = [
    `\`deno task bench${env.quick ? " --quick" : ""}${env.peers ? " --peers" : ""}\` on ${
      String(env.date).slice(0, 10)
    }: ${env.deno}, ` +
    `Bun ${env.bun}, ${env.cpus} x ${env.cpu}, Linux ${env.kernel}, ` +
    `${
      env.pinned ? "subject pinned to CPU 0 and load client to CPU 1 (taskset)" : "not pinned"
    }; ` +
    `${env.durationS} s; load average ${env.loadavg} before, ${env.loadavgEnd} after. ` +
    `Median of the repetitions, range in parentheses; wskit / raw is the median of the ratios within each repetition (the two ran back to back).`,
  ];
  const main = summary.scenarios.filter((s) =>
    s.kind !== "events" && MAIN.some((id) => s.subjects[id])
  );
  if (main.length) {
    lines.push(
      "",
      "| scenario | figure | Deno.upgradeWebSocket | wskit on Deno | wskit / raw | Bun.serve | wskit on Bun | wskit / raw |",
      "|---|---|--:|--:|--:|--:|--:|--:|",
    );
  }
  for (const s of main) {
    if (s.kind === "events") continue;
    ROWS[s.kind].forEach(([fig, label], i) => {
      // Other processes' CPU is context, not a property of the subject: no ratio.
      const ratio = fig === "otherPct" ? () => "" : ratioOf;
      const title = i === 0 ? `**${s.id}**: ${s.title}` : "";
      lines.push(
        `| ${title} | ${label} | ${cell(s.subjects.deno_raw?.[fig], fig)} | ${
          cell(s.subjects.deno_wskit?.[fig], fig)
        } | ${ratio(s.ratios.deno?.[fig])} | ${cell(s.subjects.bun_raw?.[fig], fig)} | ${
          cell(s.subjects.bun_wskit?.[fig], fig)
        } | ${ratio(s.ratios.bun?.[fig])} |`,
      );
    });
  }
  if (summary.targets.length) {
    lines.push("", "| target | runtime | measured | holds |", "|---|---|---|---|");
  }
  for (const t of summary.targets) {
    lines.push(
      `| ${t.target} | ${t.runtime} | ${t.measured} | ${
        t.holds === null ? "–" : t.holds ? "yes" : "**no**"
      } |`,
    );
  }
  return lines.join("\n") + "\n";
}
