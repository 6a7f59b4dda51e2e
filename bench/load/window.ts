/**
 * What every load-client scenario shares: the job and result shapes, the measurement window
 * (time, count, bytes on the wire and the CPU time of the subject, the client and everything
 * else at its edges), error checks, the pauses at which the orchestrator reads the subject's
 * memory, and the open-loop pacing loop.
 *
 * @module
 */

import { stdinLines } from "../../tests/_support/this_process.ts";
import { pause, waitFor } from "../../tests/_support/wait.ts";
import { clientFrameSize } from "../../tests/_support/ws_wire.ts";
import { cpuMs, machineBusyMs } from "../proc.ts";
import { Histogram, type Percentiles } from "../stats.ts";
import { type Conn, errors, wire } from "./conn.ts";
import { PAYLOAD_SIZE } from "./payload.ts";

/** What the orchestrator asks of one client run. */
export interface Job {
  /** The scenario to drive. */
  scenario: "echo" | "chat" | "fanout" | "idle" | "cycles" | "storm" | "events";
  /** Events: the subject's wire format (`load/session_wire.ts`, `load/socketio_wire.ts`). */
  wire?: "wskit" | "socketio";
  /** The subject's port on 127.0.0.1. */
  port: number;
  /** The subject's process id, for its CPU time. */
  serverPid: number;
  /**
   * Connections (echo, chat, cycles, events), subscribers (fanout) or reconnecting clients
   * (storm).
   */
  conns: number;
  /** Echo, events: messages in flight per connection (closed loop). Fanout: in flight. */
  inflight?: number;
  /** Echo open loop and fanout latency phase: offered messages per second, all connections. */
  rate?: number;
  /** Chat: messages each client sends per batch. */
  batch?: number;
  /** Idle: connection counts to pause at. Cycles: [measured cycles, warm-up cycles]. */
  steps?: number[];
  /** Storm: the clients' backoff, shortest and longest wait before a reconnect, ms. */
  backoff?: { minDelay: number; maxDelay: number };
  /** Time before the window, ms. */
  warmupMs: number;
  /** The measurement window, ms. */
  measureMs: number;
}

/** What one client run reports. */
export interface JobResult {
  /** False when anything counted failed validation or a connection broke. */
  valid: boolean;
  /** What went wrong, when invalid. */
  errors: string[];
  /** Messages (echo) or deliveries (chat, fanout) counted in the window. */
  count: number;
  /** Length of the window, s. */
  seconds: number;
  /** `count / seconds`. */
  perSecond: number;
  /** Subject CPU time in the window, ms. */
  serverCpuMs: number;
  /** Client CPU time in the window, ms. */
  clientCpuMs: number;
  /** CPU time other processes used in the window (whole machine), ms. */
  otherCpuMs?: number;
  /** Latency in µs (echo: round trip; fanout: publish to receive, fixed-rate phase). */
  latency?: Percentiles;
  /** Extra figures of a scenario; `wireBytes`: bytes on the wire in the window, both ways. */
  extra: Record<string, number>;
}

/** Size of a client frame carrying the test payload. */
export const FRAME: number = clientFrameSize(PAYLOAD_SIZE);

/** Throws as soon as any connection has reported a problem. */
export function check(): void {
  if (errors.length > 0) throw new Error(errors[0]);
}

/** Waits until `done()` holds, checking for errors, at most `ms`. */
export async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  await waitFor(() => (check(), done()), what, ms);
}

/**
 * A result without a measurement window: only `extra` figures, or, for a run that could not
 * be measured, what went wrong.
 */
export function bareResult(errors: string[], extra: Record<string, number> = {}): JobResult {
  return {
    valid: errors.length === 0,
    errors,
    count: 0,
    seconds: 0,
    perSecond: 0,
    serverCpuMs: 0,
    clientCpuMs: 0,
    extra,
  };
}

/** Lines from the orchestrator on stdin. */
const commands = stdinLines();

/**
 * Prints `step <label>` and waits for the orchestrator's `next` (once it has read what it
 * reads at this step); returns what followed `next` on its line.
 */
export async function step(label: string): Promise<string> {
  console.log(`step ${label}`);
  for (;;) {
    const { value, done } = await commands.next();
    if (done) throw new Error("The orchestrator closed stdin");
    if (value === "next" || value.startsWith("next ")) return value.slice(5);
  }
}

/** A window's edges: time, a counter and both processes' CPU time. */
export interface Mark {
  t: number;
  count: number;
  bytes: number;
  server: number;
  client: number;
  machine: number;
}

export function mark(job: Job, count: number): Mark {
  return {
    t: performance.now(),
    count,
    bytes: wire.bytes,
    server: cpuMs(job.serverPid),
    client: cpuMs("self"),
    machine: machineBusyMs(),
  };
}

/**
 * Warms up for `job.warmupMs`, then measures a window of `job.measureMs`: `count()` is read
 * at its edges, and `onStart` runs as it opens (to start a fresh histogram).
 */
export async function measure(
  job: Job,
  count: () => number,
  onStart?: () => void,
): Promise<JobResult> {
  await pause(job.warmupMs);
  check();
  onStart?.();
  const a = mark(job, count());
  await pause(job.measureMs);
  return windowResult(a, mark(job, count()));
}

export function windowResult(a: Mark, b: Mark): JobResult {
  const seconds = (b.t - a.t) / 1000;
  const count = b.count - a.count;
  return {
    valid: true,
    errors: [],
    count,
    seconds,
    perSecond: count / seconds,
    serverCpuMs: b.server - a.server,
    clientCpuMs: b.client - a.client,
    otherCpuMs: Math.max(
      0,
      (b.machine - a.machine) - (b.server - a.server) - (b.client - a.client),
    ),
    extra: { wireBytes: b.bytes - a.bytes },
  };
}

/** A closed loop's state shared by its frame handler and {@linkcode finishLoop}. */
export class Loop {
  /** Round trips, from send to echo or answer (a fresh one as the window opens). */
  hist: Histogram = new Histogram();
  /** Echoes or answers so far, every connection. */
  total = 0;
  /** Whether each echo or answer sends the next message. */
  sending = true;
}

/**
 * The end of a closed loop: measures the window over `loop.total`, stops sending, waits for
 * every message in flight on each connection (`states`) to come back, closes the connections.
 */
export async function finishLoop(
  job: Job,
  loop: Loop,
  conns: Conn[],
  states: { sent: number; received: number }[],
  what: string,
): Promise<JobResult> {
  const result = await measure(job, () => loop.total, () => loop.hist = new Histogram());
  const h = loop.hist;
  loop.sending = false;
  await until(() => states.every((s) => s.received === s.sent), 10_000, what);
  for (const conn of conns) conn.close();
  result.latency = h.percentiles();
  result.extra.sent = states.reduce((n, s) => n + s.sent, 0);
  return result;
}

/** How late the pacing loop ran: gaps between its turns over 1 ms (client-side stalls). */
const pacing = { stalls: 0, stalledMs: 0, maxGapMs: 0 };

/** The pacing loop's stalls, for a result's `extra`. */
export function pacingFigures(): Record<string, number> {
  return {
    pacingStalls: pacing.stalls,
    pacingStalledMs: pacing.stalledMs,
    pacingMaxGapMs: pacing.maxGapMs,
  };
}

/** Calls `tick` as often as the event loop allows until it returns false (open-loop pacing). */
export function spin(tick: () => boolean): void {
  let last = performance.now();
  const loop = () => {
    const now = performance.now();
    const gap = now - last;
    last = now;
    if (gap > 1) {
      pacing.stalls++;
      pacing.stalledMs += gap;
      if (gap > pacing.maxGapMs) pacing.maxGapMs = gap;
    }
    if (tick()) setImmediate(loop);
  };
  setImmediate(loop);
}
