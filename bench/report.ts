/**
 * From run records to figures: per scenario and subject the median and range of each figure
 * over the valid repetitions, the wskit / raw ratio per runtime, each peer / wskit ratio, and
 * the targets of issue 4 checked against them. The tables are `table.ts` and
 * `peers_table.ts`.
 *
 * @module
 */

import type { JobResult } from "./load/window.ts";
import type { Kind, Runtime, Scenario, StormSettings, Subject } from "./scenarios.ts";
import { median, slope, type Spread, spread } from "./stats.ts";

/** One run of one scenario against one subject. */
export interface RunRecord {
  /** Scenario id. */
  scenario: string;
  /** Subject id. */
  subject: Subject["id"];
  /** Repetition, from 0. */
  rep: number;
  /** False when the run did not validate or a process failed. */
  valid: boolean;
  /** Why it is invalid. */
  errors: string[];
  /** What the load client reported. */
  result?: JobResult;
  /**
   * Subject RSS and JS heap (KiB) at each step of a memory scenario, after a full GC, and its
   * RSS before that GC (absent in runs saved before it was measured).
   */
  steps?: { label: string; rssKiB: number; heapKiB: number; rssNoGcKiB?: number }[];
  /** Subject peak RSS (KiB) at the end of the run. */
  hwmKiB?: number;
  /** Wall-clock duration of the run, ms. */
  wallMs: number;
}

/** A record of a run that has not yet happened: invalid until its figures say otherwise. */
export function newRecord(scenario: string, subject: Subject["id"], rep: number): RunRecord {
  return { scenario, subject, rep, valid: false, errors: [], wallMs: 0 };
}

/** Figures of one subject in one scenario, each over the valid repetitions. */
export type Figures = Record<string, Spread>;

/** One scenario's summary. */
export interface ScenarioSummary {
  /** Scenario id. */
  id: string;
  /** What it measures. */
  title: string;
  /** How its figures are read. */
  kind: Kind;
  /** Figures per subject id. */
  subjects: Record<string, Figures>;
  /** Valid and total runs per subject id. */
  runs: Record<string, { valid: number; total: number }>;
  /** wskit / raw of each figure per runtime: the median of the per-repetition ratios. */
  ratios: Partial<Record<WskitRuntime, Record<string, number>>>;
  /**
   * Per peer id, peer / wskit of each figure against wskit on the peer's runtime (Node's
   * against both), paired the same way.
   */
  versus: Record<string, Partial<Record<WskitRuntime, Record<string, number>>>>;
}

/** The runtimes wskit runs on. */
export type WskitRuntime = Exclude<Runtime, "node">;

/** One target of the issue, checked. */
export interface TargetCheck {
  /** The target as the issue states it. */
  target: string;
  /** The runtime it was checked on. */
  runtime: WskitRuntime;
  /** What was measured. */
  measured: string;
  /** Whether it holds (`null`: not measured). */
  holds: boolean | null;
}

/** Everything the results file, the table and the chart are made of. */
export interface Summary {
  /** Per scenario. */
  scenarios: ScenarioSummary[];
  /** The targets, checked. */
  targets: TargetCheck[];
}

/** The headline figure of each kind, the one the ratio table and the chart show. */
export const HEADLINE: Record<Kind, { figure: string; higherIsBetter: boolean }> = {
  throughput: { figure: "perSecond", higherIsBetter: true },
  latency: { figure: "p99", higherIsBetter: false },
  chat: { figure: "perSecond", higherIsBetter: true },
  fanout: { figure: "perSecond", higherIsBetter: true },
  idle: { figure: "kibPerConn", higherIsBetter: false },
  cycles: { figure: "kibPerCycle", higherIsBetter: false },
  storm: { figure: "allBackMs", higherIsBetter: false },
  micro: { figure: "echoNs", higherIsBetter: false },
  events: { figure: "perSecond", higherIsBetter: true },
};

/** The numbers one valid run contributes. */
export function figures(kind: Kind, r: RunRecord): Record<string, number> {
  const res = r.result;
  if (!res) return {};
  const pct = (ms: number) => ms / res.seconds / 10;
  const base = {
    perSecond: res.perSecond,
    cpuUs: res.serverCpuMs * 1000 / res.count,
    serverPct: pct(res.serverCpuMs),
    clientPct: pct(res.clientCpuMs),
    otherPct: pct(res.otherCpuMs ?? NaN),
  };
  const lat = res.latency
    ? { p50: res.latency.p50, p99: res.latency.p99, p999: res.latency.p999 }
    : {};
  // Per round trip: a message and its echo or answer, with whatever else travelled (acks).
  // Closed loops only: an open loop's window also holds what the server has yet to answer.
  const bytes = { bytesPerRoundTrip: (res.extra.wireBytes ?? NaN) / res.count };
  switch (kind) {
    case "throughput":
    case "events":
      return { ...base, ...lat, ...bytes };
    case "latency":
    case "chat":
      return { ...base, ...lat };
    case "fanout":
      return {
        ...base,
        ...lat,
        fixedCpuUs: (res.extra.fixedRateServerCpuMs ?? NaN) * 1000 /
          ((res.extra.fixedRateDeliveriesPerSec ?? NaN) * (res.extra.fixedRateSeconds ?? NaN)),
      };
    case "idle": {
      const steps = (r.steps ?? []).map((s) => ({
        n: Number(s.label),
        kib: s.rssKiB,
        heap: s.heapKiB,
        noGc: s.rssNoGcKiB ?? NaN,
      }));
      const loaded = steps.filter((s) => s.n > 0);
      const top = steps.at(-1);
      return {
        kibPerConn: slope(loaded.map((s) => s.n), loaded.map((s) => s.kib)),
        mibPer1000: slope(loaded.map((s) => s.n), loaded.map((s) => s.kib)) * 1000 / 1024,
        heapKibPerConn: slope(loaded.map((s) => s.n), loaded.map((s) => s.heap)),
        noGcKibPerConn: slope(loaded.map((s) => s.n), loaded.map((s) => s.noGc)),
        rss0MiB: (steps[0]?.kib ?? NaN) / 1024,
        rssMaxMiB: (top?.kib ?? NaN) / 1024,
        conns: top?.n ?? 0,
        broadcastMs: res.extra.broadcastMs ?? NaN,
      };
    }
    case "cycles": {
      // Step 0 follows the unmeasured warm-up cycles; the trend is the slope over it and the
      // measured cycles, of RSS and of the JS heap (exact after a full GC: a leak of peers
      // shows there first).
      const steps = (r.steps ?? []).map((s) => ({
        n: Number(s.label),
        kib: s.rssKiB,
        heap: s.heapKiB,
      }));
      const cycles = steps.filter((s) => s.n > 0);
      const out: Record<string, number> = {
        kibPerCycle: slope(steps.map((s) => s.n), steps.map((s) => s.kib)),
        heapKibPerCycle: slope(steps.map((s) => s.n), steps.map((s) => s.heap)),
        connsPerCycle: cycles.length ? res.count / cycles.length : NaN,
        growthKiB: (steps.at(-1)?.kib ?? NaN) - (steps[0]?.kib ?? NaN),
        rss0MiB: (steps[0]?.kib ?? NaN) / 1024,
      };
      for (const s of cycles) out[`rssCycle${s.n}MiB`] = s.kib / 1024;
      return out;
    }
    case "storm":
    case "micro":
      return { ...res.extra };
  }
}

/** Summarizes the run records of every scenario that ran. */
export function summarize(
  records: RunRecord[],
  list: Scenario[],
  subjects: Subject[],
  storm: StormSettings,
): Summary {
  const all: { id: string; title: string; kind: Kind }[] = [
    {
      id: "micro",
      title: "JavaScript per message without the network (socket stand-ins)",
      kind: "micro",
    },
    ...list,
    {
      id: "storm",
      title: `reconnect storm, ${storm.clients} clients after a restart`,
      kind: "storm",
    },
  ];
  const scenarios: ScenarioSummary[] = [];
  for (const sc of all) {
    const mine = records.filter((r) => r.scenario === sc.id);
    if (mine.length === 0) continue;
    const summary: ScenarioSummary = { ...sc, subjects: {}, runs: {}, ratios: {}, versus: {} };
    for (const subject of subjects) {
      const runs = mine.filter((r) => r.subject === subject.id);
      if (runs.length === 0) continue;
      const valid = runs.filter((r) => r.valid);
      summary.runs[subject.id] = { valid: valid.length, total: runs.length };
      const per = valid.map((r) => figures(sc.kind, r));
      const names = [...new Set(per.flatMap((f) => Object.keys(f)))];
      summary.subjects[subject.id] = Object.fromEntries(
        names.map((n) => [n, spread(per.map((f) => f[n] ?? NaN))]),
      );
    }
    const ratio = (id: string, base: string) => paired(mine, sc.kind, id, base, summary.subjects);
    for (const runtime of ["deno", "bun"] as const) {
      const r = ratio(`${runtime}_wskit`, `${runtime}_raw`);
      if (r) summary.ratios[runtime] = r;
    }
    for (const peer of subjects.filter((s) => s.kind === "peer")) {
      const against = peer.runtime === "node" ? (["deno", "bun"] as const) : [peer.runtime];
      for (const runtime of against) {
        const r = ratio(peer.id, `${runtime}_wskit`);
        if (r) (summary.versus[peer.id] ??= {})[runtime] = r;
      }
    }
    scenarios.push(summary);
  }
  return { scenarios, targets: checkTargets(scenarios) };
}

/**
 * `subject` / `base` of each figure, paired: the ratio within each repetition (the two ran
 * in the same round of subjects), then the median; the machine drifts between slower and
 * faster spells and pairs cancel most of it. Undefined unless both have figures.
 */
function paired(
  mine: RunRecord[],
  kind: Kind,
  subject: string,
  base: string,
  all: Record<string, Figures>,
): Record<string, number> | undefined {
  const num = all[subject], den = all[base];
  if (!num || !den) return undefined;
  const valid = (id: string) => mine.filter((r) => r.valid && r.subject === id);
  const pairs = (name: string) => {
    const ratios: number[] = [];
    for (const k of valid(subject)) {
      const r = valid(base).find((x) => x.rep === k.rep);
      if (r) ratios.push((figures(kind, k)[name] ?? NaN) / (figures(kind, r)[name] ?? NaN));
    }
    return median(ratios);
  };
  return Object.fromEntries(
    Object.keys(num).map((n) => {
      const p = pairs(n);
      return [n, Number.isFinite(p) ? p : num[n]!.median / (den[n]?.median ?? NaN)];
    }),
  );
}

function checkTargets(scenarios: ScenarioSummary[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const get = (id: string) => scenarios.find((s) => s.id === id);
  for (const runtime of ["deno", "bun"] as const) {
    const med = (s: ScenarioSummary | undefined, kind: "raw" | "wskit", fig: string) =>
      s?.subjects[`${runtime}_${kind}`]?.[fig]?.median ?? NaN;
    const ratio = (id: string, fig: string, target: string, limit: number, atLeast: boolean) => {
      const s = get(id);
      if (!s) return;
      const r = s.ratios[runtime]?.[fig] ?? NaN;
      // Beside a rate, the CPU time per message: what the rate would be if the subject alone
      // were the bottleneck (raw / wskit), steadier than the rate on a shared machine.
      const cpu = fig === "perSecond" ? 1 / (s.ratios[runtime]?.cpuUs ?? NaN) : NaN;
      out.push({
        target,
        runtime,
        measured: `${id}: ${r.toFixed(3)}x (${fmt(fig, med(s, "wskit", fig))} vs ${
          fmt(fig, med(s, "raw", fig))
        })${Number.isFinite(cpu) ? `; by CPU per message ${cpu.toFixed(3)}x` : ""}`,
        holds: Number.isFinite(r) ? (atLeast ? r >= limit : r <= limit) : null,
      });
    };
    for (const id of ["echo_1", "echo_32", "echo_100"]) {
      ratio(id, "perSecond", "echo throughput >= 0.97x raw", 0.97, true);
    }
    ratio("chat", "perSecond", "broadcast deliveries >= 0.97x raw", 0.97, true);
    ratio("fanout", "perSecond", "broadcast deliveries >= 0.97x raw", 0.97, true);
    for (const id of ["latency_closed", "latency_open", "fanout"]) {
      ratio(id, "p99", "p99 latency <= raw + 10 %", 1.1, false);
    }
    const idle = get("idle");
    if (idle) {
      const kit = med(idle, "wskit", "kibPerConn"), raw = med(idle, "raw", "kibPerConn");
      out.push({
        target: "<= raw + 1 KiB RSS per idle connection",
        runtime,
        measured: `${kit.toFixed(2)} vs ${raw.toFixed(2)} KiB per connection (+${
          (kit - raw).toFixed(2)
        })`,
        holds: Number.isFinite(kit - raw) ? kit - raw <= 1 : null,
      });
      const kitNoGc = med(idle, "wskit", "noGcKibPerConn");
      const rawNoGc = med(idle, "raw", "noGcKibPerConn");
      out.push({
        target: "<= raw + 1 KiB RSS per idle connection, no GC forced",
        runtime,
        measured: `${kitNoGc.toFixed(2)} vs ${rawNoGc.toFixed(2)} KiB per connection (+${
          (kitNoGc - rawNoGc).toFixed(2)
        })`,
        holds: Number.isFinite(kitNoGc - rawNoGc) ? kitNoGc - rawNoGc <= 1 : null,
      });
      const conns = med(idle, "wskit", "conns");
      const runs = idle.runs[`${runtime}_wskit`];
      out.push({
        target: "10 000 connections held, a broadcast to all delivered complete",
        runtime,
        measured:
          `${conns} connections, ${runs?.valid}/${runs?.total} runs complete, broadcast in ${
            med(idle, "wskit", "broadcastMs").toFixed(1)
          } ms`,
        holds: conns >= 10_000 && runs !== undefined && runs.valid === runs.total,
      });
    }
    const cycles = get("cycles");
    if (cycles) {
      const kit = med(cycles, "wskit", "kibPerCycle"), raw = med(cycles, "raw", "kibPerCycle");
      const heap = med(cycles, "wskit", "heapKibPerCycle");
      const conns = med(cycles, "wskit", "connsPerCycle");
      out.push({
        target: "no RSS growth trend across connect/close cycles",
        runtime,
        measured: `RSS ${kit.toFixed(0)} KiB per cycle of ${conns} (raw ${raw.toFixed(0)}), ` +
          `JS heap ${heap.toFixed(0)} KiB per cycle`,
        // A trend: JS heap growing by more than 64 bytes per connection and cycle, or RSS by
        // more than the runtime's own plus 256 bytes (RSS moves in allocator-sized steps).
        holds: Number.isFinite(kit) && Number.isFinite(heap)
          ? heap <= conns * 64 / 1024 && kit <= Math.max(raw, 0) + conns * 256 / 1024
          : null,
      });
    }
  }
  return out;
}

/** Formats one figure for the table. */
export function fmt(figure: string, v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (figure === "perSecond") {
    return v >= 1e6
      ? `${(v / 1e6).toFixed(2)} M`
      : v >= 1e3
      ? `${(v / 1e3).toFixed(0)} k`
      : v.toFixed(0);
  }
  if (/^p\d+$/.test(figure)) {
    return v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} µs`;
  }
  if (figure.endsWith("Us")) return `${v.toFixed(2)} µs`;
  if (figure.endsWith("Ns")) return `${v.toFixed(1)} ns`;
  if (figure.endsWith("Pct")) return `${v.toFixed(0)} %`;
  if (figure.startsWith("bytes")) return `${v.toFixed(0)} B`;
  if (figure.endsWith("Ms")) return `${v.toFixed(0)} ms`;
  if (figure.endsWith("MiB")) return `${v.toFixed(1)} MiB`;
  if (figure === "mibPer1000") return `${v.toFixed(1)} MiB`;
  if (figure === "kibPerConn" || figure === "heapKibPerConn" || figure === "noGcKibPerConn") {
    return `${v.toFixed(2)} KiB`;
  }
  if (figure === "kibPerCycle" || figure === "growthKiB" || figure === "heapKibPerCycle") {
    return `${v.toFixed(0)} KiB`;
  }
  return v.toFixed(0);
}
