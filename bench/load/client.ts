/**
 * The load client, one process per run, on Bun: `bun bench/load/client.ts '<job JSON>'`.
 * It drives one scenario against one subject over raw TCP, validates everything it counts
 * (every echo byte-equal and in order, every broadcast delivered exactly once and in order),
 * samples the CPU time of the subject and of itself at the edges of the measurement window,
 * and prints `result <JSON>` as its last line. It exits 1 when the run is invalid.
 *
 * Memory scenarios pause at each step (`step <label>` on stdout) until the orchestrator,
 * having read the subject's RSS, writes `next` on stdin; the reconnect storm pauses once, for
 * the orchestrator to kill and restart the subject.
 *
 * @module
 */

import { args, exit } from "../../tests/_support/this_process.ts";
import { chat, fanout } from "./broadcast.ts";
import { errors } from "./conn.ts";
import { echo } from "./echo.ts";
import { events } from "./events.ts";
import { cycles, idle } from "./memory.ts";
import { storm } from "./storm.ts";
import { bareResult, check, type Job, type JobResult } from "./window.ts";

const drivers = { echo, chat, fanout, idle, cycles, storm, events };

async function main(): Promise<number> {
  const job = JSON.parse(args()[0] ?? "{}") as Job;
  let result: JobResult;
  try {
    if (!Object.hasOwn(drivers, job.scenario)) throw new TypeError(`Cannot run ${job.scenario}`);
    result = await drivers[job.scenario](job);
    check();
  } catch (e) {
    result = bareResult([...new Set([String((e as Error).message), ...errors])].slice(0, 5));
  }
  console.log(`result ${JSON.stringify(result)}`);
  return result.valid ? 0 : 1;
}

exit(await main());
