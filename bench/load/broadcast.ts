/**
 * The broadcast scenarios of the load client: Bun's chat method (everyone sends a batch, the
 * subject relays every message to everyone) and one publisher to many subscribers.
 *
 * @module
 */

import { type ConnHandler, errors, openAll } from "./conn.ts";
import { Histogram } from "../stats.ts";
import {
  check,
  FRAME,
  type Job,
  type JobResult,
  mark,
  measure,
  pacingFigures,
  spin,
  until,
  windowResult,
} from "./window.ts";
import { pause } from "../../tests/_support/wait.ts";
import { OP_TEXT, writeClientHeader } from "../../tests/_support/ws_wire.ts";
import {
  PAYLOAD_SIZE,
  payloadConn,
  payloadEquals,
  payloadFrameOk,
  payloadSeq,
  writePayload,
} from "./payload.ts";

/**
 * Bun's chat method: every client sends `batch` messages back to back, the subject relays
 * each to all `conns` clients (the sender included); the next batch starts once all
 * conns x batch x conns deliveries have arrived. Deliveries per second are timed over whole
 * batches (first send to last receipt), as oven-sh/bun#2539 proposed.
 */
export async function chat(job: Job): Promise<JobResult> {
  const c = job.conns;
  const perBatch = job.batch ?? 1600;
  const last = new Int32Array(c * c).fill(-1);
  const expected = c * perBatch * c;
  let got = 0;
  let batchDone: ((t: number) => void) | undefined;
  const handler: ConnHandler = {
    frame(conn, op, buf, start, end, now) {
      const from = payloadConn(buf, start);
      const seq = payloadSeq(buf, start);
      const slot = conn.id * c + from;
      if (
        op !== OP_TEXT || end - start !== PAYLOAD_SIZE || from < 0 || from >= c ||
        seq !== last[slot]! + 1 || !payloadFrameOk(buf, start)
      ) {
        throw new Error(
          `Connection ${conn.id} got message ${seq} of ${from} after ${last[slot]} (lost, ` +
            `duplicated, reordered or corrupted)`,
        );
      }
      last[slot] = seq;
      if (++got === expected) batchDone?.(now);
    },
    closed(conn, expected) {
      if (!expected) errors.push(`connection ${conn.id} closed by the server`);
    },
  };
  const conns = await openAll(c, job.port, handler);
  const buf = new Uint8Array(perBatch * FRAME);
  let batches = 0;
  async function runBatch(): Promise<number> {
    got = 0;
    const done = new Promise<number>((resolve) => batchDone = resolve);
    for (const conn of conns) {
      let at = 0;
      for (let j = 0; j < perBatch; j++) {
        at = writeClientHeader(buf, at, OP_TEXT, PAYLOAD_SIZE);
        writePayload(buf, at, conn.id, batches * perBatch + j);
        at += PAYLOAD_SIZE;
      }
      conn.write(buf);
    }
    batches++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<number>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`A batch took over 60 s (${got}/${expected})`)),
        60_000,
      );
    });
    const poll = setInterval(() => errors.length && batchDone?.(NaN), 5);
    try {
      const t = await Promise.race([done, timeout]);
      check();
      return t;
    } finally {
      clearTimeout(timer);
      clearInterval(poll);
    }
  }
  const start = performance.now();
  while (performance.now() - start < job.warmupMs) await runBatch();
  const a = mark(job, 0);
  let measured = 0;
  let end = a.t;
  while (end - a.t < job.measureMs) {
    end = await runBatch();
    measured++;
  }
  const b = mark(job, measured * expected);
  b.t = end;
  for (const conn of conns) conn.close();
  const result = windowResult(a, b);
  result.extra.batches = measured;
  result.extra.deliveriesPerBatch = expected;
  return result;
}

/**
 * One publisher, `conns` subscribers. Phase 1 publishes at a fixed `rate` and measures
 * publish-to-receive latency from the scheduled send time; phase 2 keeps `inflight` messages
 * outstanding (the next goes out when one has reached every subscriber) and measures
 * deliveries per second.
 */
export async function fanout(job: Job): Promise<JobResult> {
  const subs = job.conns;
  const ring = 1 << 14;
  const times = new Float64Array(ring);
  const reached = new Int32Array(ring);
  const next = new Int32Array(subs + 1);
  let sent = 0;
  let complete = 0;
  let deliveries = 0;
  let hist = new Histogram();
  let onComplete: (() => void) | undefined = undefined;
  const handler: ConnHandler = {
    frame(conn, op, buf, start, end, now) {
      const seq = next[conn.id]!;
      if (
        conn.id === 0 || op !== OP_TEXT || end - start !== PAYLOAD_SIZE ||
        !payloadEquals(buf, start, 0, seq)
      ) {
        throw new Error(`Subscriber ${conn.id} did not get message ${seq} next`);
      }
      next[conn.id] = seq + 1;
      deliveries++;
      hist.record(now - times[seq & (ring - 1)]!);
      if (++reached[seq & (ring - 1)]! === subs) {
        complete++;
        onComplete?.();
      }
    },
    closed(conn, expected) {
      if (!expected) errors.push(`connection ${conn.id} closed by the server`);
    },
  };
  const [publisher] = await openAll(1, job.port, handler, () => "/?pub");
  const subscribers = await openAll(subs, job.port, handler, () => "/", 256, 1);
  await pause(100); // every subscription is in place once the open hooks have run
  const frame = new Uint8Array(FRAME);
  function publish(t: number): void {
    if (sent - complete >= ring) throw new Error("More than 16384 broadcasts outstanding");
    writePayload(frame, writeClientHeader(frame, 0, OP_TEXT, PAYLOAD_SIZE), 0, sent);
    times[sent & (ring - 1)] = t;
    reached[sent & (ring - 1)] = 0;
    sent++;
    publisher!.write(frame);
  }

  // Phase 1: fixed rate, latency.
  const rate = job.rate ?? 100;
  let pacing = true;
  const t0 = performance.now();
  let k = 0;
  spin(() => {
    if (!pacing) return false;
    const now = performance.now();
    for (let due = t0 + k * 1000 / rate; due <= now; due = t0 + ++k * 1000 / rate) publish(due);
    return true;
  });
  const fixed = await measure(job, () => deliveries, () => hist = new Histogram());
  const latency = hist.percentiles();
  pacing = false;
  await until(() => complete === sent, 10_000, "every broadcast at every subscriber");

  // Phase 2: capacity with a window of broadcasts in flight.
  const window = job.inflight ?? 8;
  let open = true;
  onComplete = () => {
    if (open) publish(performance.now());
  };
  for (let i = 0; i < window; i++) publish(performance.now());
  const result = await measure(job, () => deliveries);
  open = false;
  await until(() => complete === sent, 10_000, "every broadcast at every subscriber");
  for (const conn of [publisher!, ...subscribers]) conn.close();
  result.latency = latency;
  result.extra.fixedRateDeliveriesPerSec = fixed.perSecond;
  result.extra.fixedRateServerCpuMs = fixed.serverCpuMs;
  result.extra.fixedRateClientCpuMs = fixed.clientCpuMs;
  result.extra.fixedRateSeconds = fixed.seconds;
  Object.assign(result.extra, pacingFigures());
  return result;
}
