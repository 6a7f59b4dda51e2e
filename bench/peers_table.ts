/**
 * The table of wskit beside its peers (`--peers`) and of the typed-events scenario: one row
 * per scenario and subject (wskit and the peers; the bare runtimes are in the main table),
 * with the scenario's headline figure, the server CPU time per message and the bytes on the
 * wire per round trip, and each peer / wskit ratio against wskit on the peer's runtime (Node's
 * against both), paired per repetition. What a subject could not run is listed below it.
 *
 * @module
 */

import { HEADLINE, type ScenarioSummary, type Summary, type WskitRuntime } from "./report.ts";
import type { Kind, Subject } from "./scenarios.ts";
import { cell, ratioOf } from "./table.ts";

/** What the headline figure of each kind is called in this table. */
const HEADLINE_LABEL: Record<Kind, string> = {
  throughput: "echoes/s",
  latency: "p99",
  chat: "deliveries/s",
  fanout: "deliveries/s",
  idle: "RSS per connection",
  cycles: "RSS trend per cycle",
  storm: "all reconnected",
  micro: "ns per echo",
  events: "answers/s",
};

function versus(s: ScenarioSummary, subject: Subject, runtime: WskitRuntime): string {
  if (subject.kind === "wskit") return "";
  const r = s.versus[subject.id]?.[runtime];
  if (!r) return "";
  const cpu = r.cpuUs;
  return ratioOf(r[HEADLINE[s.kind].figure]) +
    (cpu !== undefined && Number.isFinite(cpu) ? `, CPU ${ratioOf(cpu)}` : "");
}

/**
 * The table, or an empty string when no peer and no events scenario ran.
 *
 * @param subjects Every subject of the run, in order.
 * @param versions The peers' installed versions.
 */
export function peersMarkdown(summary: Summary, subjects: Subject[], versions: string): string {
  const shown = subjects.filter((s) => s.kind !== "raw");
  const scenarios = summary.scenarios.filter((s) =>
    s.kind !== "micro" && (s.kind === "events" || shown.some((p) => p.kind === "peer"))
  );
  const rows = scenarios.flatMap((s) =>
    shown.filter((subject) => s.subjects[subject.id]).map((subject, i) => {
      const f = s.subjects[subject.id]!;
      const headline = HEADLINE[s.kind].figure;
      return `| ${i === 0 ? `**${s.id}**` : ""} | ${subject.label} | ${HEADLINE_LABEL[s.kind]} | ${
        cell(f[headline], headline)
      } | ${cell(f.cpuUs, "cpuUs")} | ${cell(f.bytesPerRoundTrip, "bytesPerRoundTrip")} | ${
        versus(s, subject, "deno")
      } | ${versus(s, subject, "bun")} |`;
    })
  );
  if (rows.length === 0) return "";
  const lines = [
    (versions
      ? `wskit beside its peers (${versions}), under the same load client and checks. `
      : "The typed-events scenario (`--peers` adds Socket.IO, and the peers of every other " +
        "scenario). ") +
    "A ratio is subject / wskit of the headline figure (then of the server " +
    "CPU time per message), the median of the ratios within each repetition: above 1 is more " +
    "messages per second, or more latency, memory, time or CPU.",
    "",
    "| scenario | subject | figure | value | server CPU per message | bytes on the wire per round trip | / wskit on Deno | / wskit on Bun |",
    "|---|---|---|--:|--:|--:|--:|--:|",
    ...rows,
  ];
  // What was not run, grouped by the reason.
  const missing = new Map<string, { who: string[]; what: Set<string> }>();
  for (const subject of shown) {
    const not = summary.scenarios.filter((s) => s.kind !== "micro" && !s.subjects[subject.id]);
    if (!subject.note || not.length === 0) continue;
    const entry = missing.get(subject.note) ?? { who: [], what: new Set<string>() };
    entry.who.push(subject.label);
    for (const s of not) entry.what.add(s.id);
    missing.set(subject.note, entry);
  }
  if (missing.size) lines.push("");
  for (const [note, { who, what }] of missing) {
    lines.push(`- Not run by ${who.join(", ")}: ${[...what].join(", ")} (${note}).`);
  }
  return lines.join("\n") + "\n";
}
