/**
 * The typed-events scenario of the load client: every connection keeps `inflight` events in
 * flight (closed loop), each carrying the 32-byte test payload as a string in the subject's
 * own wire format (`job.wire`); the subject answers each with one event carrying the same
 * payload. Answers are checked byte for byte and in order; what else the server sends (acks,
 * its pings, the handshake) is read by the wire and counted only as bytes on the wire.
 *
 * @module
 */

import { type Conn, type ConnHandler, errors, openAll } from "./conn.ts";
import { finishLoop, type Job, type JobResult, Loop, until } from "./window.ts";
import { OP_TEXT, writeClientHeader } from "../../tests/_support/ws_wire.ts";
import { nextPayload, PAYLOAD_SIZE, writePayload } from "./payload.ts";
import { sessionWire, type WireIo } from "./session_wire.ts";
import { socketIoWire } from "./socketio_wire.ts";

/** A subject's event protocol, as the load client speaks it. */
interface EventWire {
  path: string;
  headers: Record<string, string>;
  start(): string[];
  event(payload: string): string;
  read(frame: string, io: WireIo): string | undefined;
}

const WIRES: Record<NonNullable<Job["wire"]>, EventWire> = {
  wskit: sessionWire,
  socketio: socketIoWire,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Per-connection state: send times of events in flight, the next payloads, a batch to write. */
class EventState implements WireIo {
  isReady = false;
  sent = 0;
  received = 0;
  times: Float64Array;
  mask: number;
  #batch = new Uint8Array(1024);
  #length = 0;
  #next = new Uint8Array(PAYLOAD_SIZE);
  #expected = new Uint8Array(PAYLOAD_SIZE);
  constructor(id: number, ring: number) {
    this.times = new Float64Array(ring);
    this.mask = ring - 1;
    writePayload(this.#next, 0, id, 0);
    writePayload(this.#expected, 0, id, 0);
  }
  /** Appends a text frame to the batch. */
  send(text: string): void {
    const room = text.length * 3 + 14;
    if (this.#length + room > this.#batch.length) {
      const bigger = new Uint8Array(Math.max(this.#batch.length * 2, this.#length + room));
      bigger.set(this.#batch.subarray(0, this.#length));
      this.#batch = bigger;
    }
    const bytes = encoder.encode(text);
    const at = writeClientHeader(this.#batch, this.#length, OP_TEXT, bytes.length);
    this.#batch.set(bytes, at);
    this.#length = at + bytes.length;
  }
  ready(): void {
    this.isReady = true;
  }
  /** Appends the next event, stamped `t`. */
  queue(wire: EventWire, id: number, t: number): void {
    if (this.sent - this.received > this.mask) {
      throw new Error(`More than ${this.mask + 1} events in flight on connection ${id}`);
    }
    this.times[this.sent & this.mask] = t;
    this.sent++;
    this.send(wire.event(decoder.decode(this.#next)));
    nextPayload(this.#next, 0);
  }
  /** Checks an answer's payload against the next expected one, and advances it. */
  matches(payload: string): boolean {
    const expected = this.#expected;
    if (payload.length !== PAYLOAD_SIZE) return false;
    for (let i = 0; i < PAYLOAD_SIZE; i++) {
      if (payload.charCodeAt(i) !== expected[i]) return false;
    }
    nextPayload(expected, 0);
    return true;
  }
  flush(conn: Conn): void {
    if (this.#length === 0) return;
    conn.write(this.#batch.subarray(0, this.#length));
    this.#length = 0;
  }
}

/**
 * Events: `conns` connections, each with `inflight` events in flight; the next event goes
 * out as an answer comes back.
 */
export async function events(job: Job): Promise<JobResult> {
  const wire = WIRES[job.wire ?? "wskit"];
  const inflight = job.inflight ?? 8;
  const ring = 1 << Math.ceil(Math.log2(inflight + 1));
  const states: EventState[] = [];
  const loop = new Loop();
  const handler: ConnHandler = {
    frame(conn, op, buf, start, end, now) {
      const st = states[conn.id]!;
      if (op !== OP_TEXT) throw new Error(`Unexpected frame (opcode ${op}) on ${conn.id}`);
      const payload = wire.read(decoder.decode(buf.subarray(start, end)), st);
      if (payload === undefined) return;
      if (st.received >= st.sent || !st.matches(payload)) {
        throw new Error(
          `Answer ${st.received} on connection ${conn.id} differs from what was sent (lost, ` +
            `extra, reordered or corrupted)`,
        );
      }
      loop.hist.record(now - st.times[st.received & st.mask]!);
      st.received++;
      loop.total++;
      if (loop.sending) st.queue(wire, conn.id, now);
    },
    chunkDone(conn) {
      states[conn.id]!.flush(conn);
    },
    closed(conn, expected) {
      if (!expected) errors.push(`connection ${conn.id} closed by the server`);
    },
  };
  for (let i = 0; i < job.conns; i++) states.push(new EventState(i, ring));
  const conns = await openAll(job.conns, job.port, handler, () => wire.path, 256, 0, wire.headers);
  for (const conn of conns) {
    for (const text of wire.start()) states[conn.id]!.send(text);
    states[conn.id]!.flush(conn);
  }
  await until(() => states.every((s) => s.isReady), 10_000, "every connection ready for events");
  const start = performance.now();
  for (const conn of conns) {
    const st = states[conn.id]!;
    for (let i = 0; i < inflight; i++) st.queue(wire, conn.id, start);
    st.flush(conn);
  }
  return await finishLoop(job, loop, conns, states, "every answer back");
}
