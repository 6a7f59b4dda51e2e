/**
 * The echo scenario of the load client: a closed loop with messages in flight on every
 * connection, or an open loop at a fixed rate with latency from the scheduled send time.
 *
 * @module
 */

import { type Conn, type ConnHandler, errors, openAll } from "./conn.ts";
import {
  finishLoop,
  FRAME,
  type Job,
  type JobResult,
  Loop,
  pacingFigures,
  spin,
} from "./window.ts";
import { OP_TEXT, writeClientHeader } from "../../tests/_support/ws_wire.ts";
import { bytesEqual, nextPayload, PAYLOAD_SIZE, writePayload } from "./payload.ts";

/** Per-connection echo state: the send times of messages in flight, and a batch to write. */
class EchoState {
  sent = 0;
  received = 0;
  times: Float64Array;
  mask: number;
  batch: Uint8Array;
  batchLength = 0;
  /** The payload of the next send and of the next expected echo. */
  next = new Uint8Array(PAYLOAD_SIZE);
  expected = new Uint8Array(PAYLOAD_SIZE);
  constructor(id: number, ring: number, batchFrames: number) {
    this.times = new Float64Array(ring);
    this.mask = ring - 1;
    this.batch = new Uint8Array(batchFrames * FRAME);
    writePayload(this.next, 0, id, 0);
    writePayload(this.expected, 0, id, 0);
  }
  /** Checks the echo at `buf[at]` against the next expected payload, and advances it. */
  matches(buf: Uint8Array, at: number): boolean {
    if (!bytesEqual(buf, at, this.expected, 0, PAYLOAD_SIZE)) return false;
    nextPayload(this.expected, 0);
    return true;
  }
  /** Appends the next message to the batch, stamped `t`. */
  queue(id: number, t: number): void {
    if (this.sent - this.received > this.mask) {
      throw new Error(`More than ${this.mask + 1} echoes in flight on connection ${id}`);
    }
    if (this.batchLength + FRAME > this.batch.length) {
      const bigger = new Uint8Array(this.batch.length * 2);
      bigger.set(this.batch.subarray(0, this.batchLength));
      this.batch = bigger;
    }
    const batch = this.batch;
    const at = writeClientHeader(batch, this.batchLength, OP_TEXT, PAYLOAD_SIZE);
    const next = this.next;
    for (let i = 0; i < PAYLOAD_SIZE; i++) batch[at + i] = next[i]!;
    nextPayload(next, 0);
    this.times[this.sent & this.mask] = t;
    this.sent++;
    this.batchLength = at + PAYLOAD_SIZE;
  }
  flush(conn: Conn): void {
    if (this.batchLength === 0) return;
    conn.write(this.batch.subarray(0, this.batchLength));
    this.batchLength = 0;
  }
}

/**
 * Echo: `conns` connections, each with `inflight` messages in flight (closed loop), or an
 * aggregate `rate` spread over the connections (open loop, latency from the scheduled send
 * time, so a server that falls behind shows its queue).
 */
export async function echo(job: Job): Promise<JobResult> {
  const open = job.rate !== undefined;
  const inflight = job.inflight ?? 1;
  const ring = open ? 1 << 16 : 1 << Math.ceil(Math.log2(inflight + 1));
  const states: EchoState[] = [];
  const loop = new Loop();
  const handler: ConnHandler = {
    frame(conn, op, buf, start, end, now) {
      const st = states[conn.id]!;
      if (op !== OP_TEXT || end - start !== PAYLOAD_SIZE) {
        throw new Error(`Unexpected frame (opcode ${op}, ${end - start} B) on ${conn.id}`);
      }
      if (!st.matches(buf, start)) {
        throw new Error(
          `Echo ${st.received} on connection ${conn.id} differs from what was sent (lost, reordered or corrupted)`,
        );
      }
      loop.hist.record(now - st.times[st.received & st.mask]!);
      st.received++;
      loop.total++;
      // Closed loop: each echo sends the next message, in one write per TCP chunk. (Bursts,
      // sending the next 8 once all 8 are back, fall into lock-step with the server: both
      // sides idle half the time in some runs.)
      if (!open && loop.sending) st.queue(conn.id, now);
    },
    chunkDone(conn) {
      states[conn.id]!.flush(conn);
    },
    closed(conn, expected) {
      if (!expected) errors.push(`connection ${conn.id} closed by the server`);
    },
  };
  for (let i = 0; i < job.conns; i++) states.push(new EchoState(i, ring, open ? 8 : inflight));
  const conns = await openAll(job.conns, job.port, handler);
  const start = performance.now();
  if (open) {
    const interval = 1000 / job.rate!;
    let k = 0;
    const dirty = new Set<Conn>();
    spin(() => {
      if (!loop.sending) return false;
      const now = performance.now();
      for (let due = start + k * interval; due <= now; due = start + k * interval) {
        const conn = conns[k % conns.length]!;
        states[conn.id]!.queue(conn.id, due);
        dirty.add(conn);
        k++;
      }
      for (const conn of dirty) states[conn.id]!.flush(conn);
      dirty.clear();
      return true;
    });
  } else {
    for (const conn of conns) {
      const st = states[conn.id]!;
      for (let i = 0; i < inflight; i++) st.queue(conn.id, start);
      st.flush(conn);
    }
  }
  const result = await finishLoop(job, loop, conns, states, "every echo back");
  if (open) Object.assign(result.extra, pacingFigures());
  return result;
}
