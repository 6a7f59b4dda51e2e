/**
 * The processes of one run: a subject (its command line on each runtime, Deno with
 * `--allow-net` and `--expose-gc` (a peer also with the config of `peers/install.ts`), Bun as
 * is, Node with `--expose-gc` on the peer's bundle; pinned to CPU 0 when asked; the wait for
 * `ready <port>`), the load client (on Bun, pinned to CPU 1), and the run's record, which
 * keeps what failed and stops every process the run started.
 *
 * @module
 */

import { which } from "../tests/_support/harness.ts";
import { type Child, onCpu, runArgs, spawn, waitForStart } from "../tests/_support/process.ts";
import type { Job } from "./load/window.ts";
import { DENO_CONFIG, nodeBundle } from "./peers/install.ts";
import type { RunRecord } from "./report.ts";
import type { Subject } from "./scenarios.ts";

/** The command that starts `subject` in `mode` on `port`, with extra runtime `flags`. */
export function serverCommand(
  subject: Subject,
  mode: string,
  port: number,
  flags: string[] = [],
): [string, string[]] {
  const tail = ["--mode", mode, "--port", String(port), ...(subject.args ?? [])];
  if (subject.runtime === "node") {
    return [which("node") ?? "node", ["--expose-gc", ...flags, nodeBundle(subject.file), ...tail]];
  }
  const peer = subject.kind === "peer" ? ["--config", DENO_CONFIG, "--no-lock"] : [];
  return runArgs(subject.runtime, subject.file, tail, {
    deno: ["--allow-net", "--v8-flags=--expose-gc", ...peer, ...flags],
    bun: flags,
  });
}

/** Starts a subject and waits for its `ready <port>` line. */
export async function startServer(
  subject: Subject,
  mode: string,
  port: number,
  pin: boolean,
): Promise<{ server: Child; port: number }> {
  const server = spawn(...onCpu(pin ? 0 : undefined, serverCommand(subject, mode, port)));
  try {
    const line = await waitForStart(server, /^ready \d+$/, 20_000);
    return { server, port: Number(line.slice(6)) };
  } catch (e) {
    throw new Error(`${subject.id} failed to start: ${(e as Error).message}`);
  }
}

/** Starts the load client on `job`, pinned to CPU 1 when asked. */
export function startLoadClient(job: Job, pin: boolean): Child {
  const command = runArgs("bun", "bench/load/client.ts", [JSON.stringify(job)]);
  return spawn(...onCpu(pin ? 1 : undefined, command));
}

/**
 * Runs `body`, which fills in `record` and hands every process it starts to `own`: a failure
 * is recorded as an error, every owned process is stopped (the last started first), and the
 * wall time is kept.
 */
export async function recordRun(
  record: RunRecord,
  body: (own: (child: Child) => Child) => Promise<void>,
): Promise<RunRecord> {
  const started = performance.now();
  const owned: Child[] = [];
  try {
    await body((child) => (owned.push(child), child));
  } catch (e) {
    record.errors.push((e as Error).message);
  } finally {
    for (const child of owned.reverse()) await child.stop();
    record.wallMs = performance.now() - started;
  }
  return record;
}
