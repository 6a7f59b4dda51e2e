/**
 * The memory scenarios of the load client: idle connections held at growing counts, then one
 * broadcast to all of them, and connect/close cycles. Each pauses at its steps for the
 * orchestrator to read the subject's memory (`step <label>` out, `next` in).
 *
 * @module
 */

import { type Conn, type ConnHandler, errors, openAll } from "./conn.ts";
import {
  check,
  FRAME,
  type Job,
  type JobResult,
  mark,
  step,
  until,
  windowResult,
} from "./window.ts";
import { pause } from "../../tests/_support/wait.ts";
import { OP_TEXT, writeClientHeader } from "../../tests/_support/ws_wire.ts";
import { PAYLOAD_SIZE, payloadEquals, writePayload } from "./payload.ts";

/**
 * Idle connections: opens connections up to each count in `steps`, pausing at each for the
 * orchestrator to read the subject's RSS; then one message to the room (chat mode) must reach
 * every connection, the sender included.
 */
export async function idle(job: Job): Promise<JobResult> {
  let got = 0;
  let doneAt = 0;
  const handler: ConnHandler = {
    frame(conn, op, buf, start, end, now) {
      if (op !== OP_TEXT || end - start !== PAYLOAD_SIZE || !payloadEquals(buf, start, 0, 0)) {
        throw new Error(`Connection ${conn.id} got something other than the broadcast`);
      }
      if (++got === conns.length) doneAt = now;
    },
    closed(conn, expected) {
      if (!expected) errors.push(`connection ${conn.id} closed by the server`);
    },
  };
  const conns: Conn[] = [];
  await step("0");
  for (const target of job.steps ?? [1000]) {
    const more = await openAll(
      target - conns.length,
      job.port,
      handler,
      () => "/",
      256,
      conns.length,
    );
    conns.push(...more);
    await step(String(target));
  }
  const frame = new Uint8Array(FRAME);
  writePayload(frame, writeClientHeader(frame, 0, OP_TEXT, PAYLOAD_SIZE), 0, 0);
  const a = mark(job, 0);
  conns[0]!.write(frame);
  await until(
    () => got === conns.length,
    30_000,
    `the broadcast at all ${conns.length} connections`,
  );
  const b = mark(job, got);
  b.t = doneAt;
  await pause(200); // anything extra would show up as a second message
  check();
  for (const conn of conns) conn.close();
  await until(() => conns.every((c) => c.ended), 30_000, "every connection closed");
  const result = windowResult(a, b);
  result.extra.broadcastMs = doneAt - a.t;
  return result;
}

/** Connect/close cycles: opens and closes `conns` connections `steps[0]` times. */
export async function cycles(job: Job): Promise<JobResult> {
  const handler: ConnHandler = {
    frame(conn) {
      throw new Error(`Connection ${conn.id} got an unexpected message`);
    },
    closed(conn, expected) {
      if (!expected) errors.push(`connection ${conn.id} closed by the server`);
    },
  };
  const count = job.steps?.[0] ?? 5;
  const warmup = job.steps?.[1] ?? 0;
  let next = 0;
  const cycle = async () => {
    const conns = await openAll(job.conns, job.port, handler, () => "/", 256, next);
    next += job.conns;
    for (const conn of conns) conn.close();
    await until(() => conns.every((c) => c.ended), 30_000, "every connection closed");
  };
  // Unmeasured cycles first: RSS climbs for a few cycles on every subject (code, pools, the
  // allocators' arenas) before it levels off, and that rise is not a leak.
  for (let i = 0; i < warmup; i++) await cycle();
  await step("0");
  const a = mark(job, 0);
  for (let i = 1; i <= count; i++) {
    await cycle();
    await step(String(i));
  }
  return windowResult(a, mark(job, count * job.conns));
}
