/**
 * The load client, one process per run, on Bun: `bun bench/load_client.ts '<job JSON>'`.
 * It drives one scenario against one subject over raw TCP, validates everything it counts
 * (every echo byte-equal and in order, every broadcast delivered exactly once and in order),
 * samples the CPU time of the subject and of itself at the edges of the measurement window,
 * and prints `result <JSON>` as its last line. It exits 1 when the run is invalid.
 *
 * Memory scenarios pause at each step (`step <label>` on stdout) until the orchestrator,
 * having read the subject's RSS, writes `next` on stdin.
 *
 * @module
 */

import { chat, fanout } from "./load_broadcast.ts";
import { errors } from "./load_conn.ts";
import { echo } from "./load_echo.ts";
import { cycles, idle } from "./load_memory.ts";
import { check, type Job, type JobResult } from "./load_window.ts";

const drivers = { echo, chat, fanout, idle, cycles };

async function main(): Promise<number> {
  const proc = (globalThis as unknown as { process: { argv: string[] } }).process;
  const job = JSON.parse(proc.argv[2] ?? "{}") as Job;
  let result: JobResult;
  try {
    result = await drivers[job.scenario](job);
    check();
  } catch (e) {
    result = {
      valid: false,
      errors: [...new Set([(e as Error).message, ...errors])].slice(0, 5),
      count: 0,
      seconds: 0,
      perSecond: 0,
      serverCpuMs: 0,
      clientCpuMs: 0,
      extra: {},
    };
  }
  console.log(`result ${JSON.stringify(result)}`);
  return result.valid ? 0 : 1;
}

const code = await main();
(globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code);
