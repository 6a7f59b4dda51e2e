/**
 * What is measured: the four subjects, the peers (`--peers`), and the scenarios, with their
 * full and `--quick` settings. Every subject runs every scenario its modes allow under the
 * same load client; what a subject cannot do is said in its `note`, never faked.
 *
 * @module
 */

import type { Job } from "./load/window.ts";
import type { Mode } from "./servers/_control.ts";

/** A runtime under test: wskit's two, and Node for the peers that live there. */
export type Runtime = "deno" | "bun" | "node";

/** One server under test. */
export interface Subject {
  /** Short id, used in file and JSON keys. */
  id:
    | "deno_raw"
    | "deno_wskit"
    | "bun_raw"
    | "bun_wskit"
    | "deno_crossws"
    | "deno_hono"
    | "bun_crossws"
    | "bun_hono"
    | "node_ws"
    | "node_socketio"
    | "node_socketio_csr";
  /** The runtime it runs on. */
  runtime: Runtime;
  /**
   * `raw` is the runtime's own API, the ceiling; `wskit` is the subject of the ratios; a
   * `peer` is another library, compared with wskit.
   */
  kind: "raw" | "wskit" | "peer";
  /** Label for tables and charts. */
  label: string;
  /** The server file, from the repository root. */
  file: string;
  /** Arguments after `--mode` and `--port`. */
  args?: string[];
  /** The modes it serves; a scenario in another mode is not run for it. */
  modes: readonly Mode[];
  /** Events: the wire format the load client speaks with it. */
  wire?: "wskit" | "socketio";
  /** What it cannot do, and why. */
  note?: string;
}

const PLAIN: readonly Mode[] = ["echo", "chat", "fanout"];
const NO_EVENTS = "no typed events: its API has plain messages only";

/** The four subjects, raw first on each runtime. */
export const SUBJECTS: readonly Subject[] = [
  {
    id: "deno_raw",
    runtime: "deno",
    kind: "raw",
    label: "Deno.upgradeWebSocket",
    file: "bench/servers/deno_raw.ts",
    modes: PLAIN,
    note: NO_EVENTS,
  },
  {
    id: "deno_wskit",
    runtime: "deno",
    kind: "wskit",
    label: "wskit on Deno",
    file: "bench/servers/wskit.ts",
    modes: [...PLAIN, "session"],
    wire: "wskit",
  },
  {
    id: "bun_raw",
    runtime: "bun",
    kind: "raw",
    label: "Bun.serve",
    file: "bench/servers/bun_raw.ts",
    modes: PLAIN,
    note: NO_EVENTS,
  },
  {
    id: "bun_wskit",
    runtime: "bun",
    kind: "wskit",
    label: "wskit on Bun",
    file: "bench/servers/wskit.ts",
    modes: [...PLAIN, "session"],
    wire: "wskit",
  },
];

const SOCKET_IO_NOTE = "events only: Socket.IO speaks engine.io packets, never plain messages";

/** The peers (`--peers`), each beside wskit on its runtime; Node's against both. */
export const PEERS: readonly Subject[] = [
  ...(["deno", "bun"] as const).flatMap((runtime): Subject[] => {
    const on = runtime === "deno" ? "Deno" : "Bun";
    const peer = (name: "crossws" | "hono", label: string): Subject => ({
      id: `${runtime}_${name}`,
      runtime,
      kind: "peer",
      label: `${label} on ${on}`,
      file: `bench/peers/${name}.ts`,
      modes: PLAIN,
      note: NO_EVENTS,
    });
    return [peer("crossws", "crossws"), peer("hono", "Hono")];
  }),
  {
    id: "node_ws",
    runtime: "node",
    kind: "peer",
    label: "ws on Node",
    file: "bench/peers/ws.ts",
    modes: PLAIN,
    note: NO_EVENTS,
  },
  {
    id: "node_socketio",
    runtime: "node",
    kind: "peer",
    label: "Socket.IO on Node",
    file: "bench/peers/socketio.ts",
    modes: ["session"],
    wire: "socketio",
    note: SOCKET_IO_NOTE,
  },
  {
    id: "node_socketio_csr",
    runtime: "node",
    kind: "peer",
    label: "Socket.IO + recovery on Node",
    file: "bench/peers/socketio.ts",
    args: ["--recovery"],
    modes: ["session"],
    wire: "socketio",
    note: SOCKET_IO_NOTE,
  },
];

/** Every subject, in the order runs alternate through: each runtime's peers after its wskit. */
export function ordered(subjects: readonly Subject[]): Subject[] {
  const rank = (s: Subject) =>
    ["deno", "bun", "node"].indexOf(s.runtime) * 3 +
    ["raw", "wskit", "peer"].indexOf(s.kind);
  return [...subjects].sort((a, b) => rank(a) - rank(b));
}

/** How a scenario's figures are read. */
export type Kind =
  | "throughput"
  | "latency"
  | "chat"
  | "fanout"
  | "idle"
  | "cycles"
  | "storm"
  | "micro"
  | "events";

/** One scenario. */
export interface Scenario {
  /** Short id (`echo_32`, `chat`, ...). */
  id: string;
  /** What it measures, for the table. */
  title: string;
  /** How its figures are read. */
  kind: Kind;
  /** The subjects' mode. */
  mode: Mode;
  /** Repetitions (each alternates the subject order). */
  reps: number;
  /** The client's job, without port and pid. */
  job: Omit<Job, "port" | "serverPid">;
}

/** Storm settings (the reconnect storm drives wskit's own client, see `load/storm.ts`). */
export interface StormSettings {
  /** Reconnecting clients. */
  clients: number;
  /** Repetitions. */
  reps: number;
}

/** The scenarios for a full run or a `--quick` smoke run. */
export function scenarios(
  quick: boolean,
): { list: Scenario[]; storm: StormSettings; microReps: number } {
  const warmupMs = quick ? 150 : 1000;
  const measureMs = quick ? 300 : 3000;
  const reps = quick ? 1 : 5;
  const few = quick ? 1 : 3;
  const echo = (conns: number): Scenario => ({
    id: `echo_${conns}`,
    title: `echo throughput, ${conns} conn${conns > 1 ? "s" : ""} x 8 in flight`,
    kind: "throughput",
    mode: "echo",
    reps,
    job: { scenario: "echo", conns, inflight: 8, warmupMs, measureMs },
  });
  const list: Scenario[] = [
    echo(1),
    echo(32),
    echo(100),
    {
      id: "latency_closed",
      title: "echo latency, closed loop, 32 conns x 1 in flight",
      kind: "latency",
      mode: "echo",
      reps,
      job: { scenario: "echo", conns: 32, inflight: 1, warmupMs, measureMs },
    },
    {
      id: "latency_open",
      title: "echo latency at a fixed 50 000 msg/s over 32 conns",
      kind: "latency",
      mode: "echo",
      reps,
      job: { scenario: "echo", conns: 32, rate: 50_000, warmupMs, measureMs },
    },
    {
      id: "chat",
      title: quick
        ? "chat (Bun's method), 16 clients x 200 msgs per batch"
        : "chat (Bun's method), 32 clients x 1600 msgs per batch",
      kind: "chat",
      mode: "chat",
      reps: few,
      job: {
        scenario: "chat",
        conns: quick ? 16 : 32,
        batch: quick ? 200 : 1600,
        warmupMs,
        measureMs,
      },
    },
    {
      id: "fanout",
      title: quick
        ? "1 publisher to 200 subscribers"
        : "1 publisher to 1000 subscribers (latency at 100 msg/s, capacity with 8 in flight)",
      kind: "fanout",
      mode: "fanout",
      // Bun's cost per delivery here is mostly kernel time (a loopback write per subscriber),
      // which slow spells of this VM raise 2-3.5x for 5-20 s, raw and wskit alike. The order
      // alternates, so a subject runs twice in a row between repetitions: one spell took 2 of
      // 3 of wskit's and set the ratio (0.47x). The median of 8 pairs is not so exposed.
      reps: quick ? 1 : 8,
      job: {
        scenario: "fanout",
        conns: quick ? 200 : 1000,
        rate: 100,
        inflight: 8,
        warmupMs,
        measureMs,
      },
    },
    {
      id: "events",
      title: "typed events, 32 clients x 8 in flight, 32-byte payload, one event back for each",
      kind: "events",
      mode: "session",
      reps,
      job: { scenario: "events", conns: 32, inflight: 8, warmupMs, measureMs },
    },
    {
      id: "idle",
      title: quick
        ? "RSS of 1000 idle connections, then one broadcast to all"
        : "RSS of up to 10 000 idle connections, then one broadcast to all",
      kind: "idle",
      mode: "chat",
      reps: few,
      job: {
        scenario: "idle",
        conns: 0,
        steps: quick ? [500, 1000] : [1000, 2000, 5000, 10_000],
        warmupMs: 0,
        measureMs: 0,
      },
    },
    {
      id: "cycles",
      title: quick
        ? "RSS across 3 connect/close cycles of 300 (after 1 unmeasured)"
        : "RSS across 5 connect/close cycles of 1000 (after 5 unmeasured)",
      kind: "cycles",
      mode: "chat",
      reps: 1,
      job: {
        scenario: "cycles",
        conns: quick ? 300 : 1000,
        steps: quick ? [3, 1] : [5, 5],
        warmupMs: 0,
        measureMs: 0,
      },
    },
  ];
  return { list, storm: { clients: quick ? 100 : 1000, reps: few }, microReps: few };
}
