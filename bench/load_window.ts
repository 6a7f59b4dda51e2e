/**
 * What every load-client scenario shares: the job and result shapes, the measurement window
 * (time, count and the CPU time of the subject, the client and everything else at its
 * edges), error checks, and the open-loop pacing loop.
 *
 * @module
 */

import { errors } from "./load_conn.ts";
import { cpuMs, machineBusyMs } from "./proc.ts";
import type { Percentiles } from "./stats.ts";
import { clientFrameSize, PAYLOAD_SIZE } from "./ws_wire.ts";

/** What the orchestrator asks of one client run. */
export interface Job {
  /** The scenario to drive. */
  scenario: "echo" | "chat" | "fanout" | "idle" | "cycles";
  /** The subject's port on 127.0.0.1. */
  port: number;
  /** The subject's process id, for its CPU time. */
  serverPid: number;
  /** Connections (echo, chat, cycles), or subscribers (fanout). */
  conns: number;
  /** Echo: messages in flight per connection (closed loop). Fanout: messages in flight. */
  inflight?: number;
  /** Echo open loop and fanout latency phase: offered messages per second, all connections. */
  rate?: number;
  /** Chat: messages each client sends per batch. */
  batch?: number;
  /** Idle: connection counts to pause at. Cycles: [measured cycles, warm-up cycles]. */
  steps?: number[];
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
  /** Extra figures of a scenario. */
  extra: Record<string, number>;
}

/** Size of a client frame carrying the test payload. */
export const FRAME: number = clientFrameSize(PAYLOAD_SIZE);
/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Throws as soon as any connection has reported a problem. */
export function check(): void {
  if (errors.length > 0) throw new Error(errors[0]);
}

/** Waits until `done()` holds, checking for errors, at most `ms`. */
export async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    check();
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${what}`);
    await sleep(2);
  }
  check();
}

/** A window's edges: time, a counter and both processes' CPU time. */
export interface Mark {
  t: number;
  count: number;
  server: number;
  client: number;
  machine: number;
}

export function mark(job: Job, count: number): Mark {
  return {
    t: performance.now(),
    count,
    server: cpuMs(job.serverPid),
    client: cpuMs("self"),
    machine: machineBusyMs(),
  };
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
    extra: {},
  };
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
