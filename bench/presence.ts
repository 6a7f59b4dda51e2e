/**
 * What presence costs (issue 15): the Redis commands of a join, a leave and a heartbeat, and
 * how long after a join the other members hear of it.
 *
 * 1. **Store operations.** Two instances of `tests/fixtures/presence_node.ts` (this runtime)
 *    on a private `redis-server`; a client joins room "bench" and leaves it N times while a
 *    member on the other instance watches. `INFO commandstats` (reset before) counts every
 *    command, those run inside scripts included; the same loop with presence off gives the
 *    baseline, so the difference is what presence adds. Then K members sit idle for a few
 *    heartbeats (lease 3 s, a beat every second per instance) and the commands per beat are
 *    counted.
 * 2. **Delay of a join.** From `join()` at one client to the `presence` event at another,
 *    median over N joins: in one process (memory store, no relay, the server in this
 *    process), and across the two instances with Redis.
 *
 * Usage: `deno run -A bench/presence.ts [--joins N]` or `bun bench/presence.ts [--joins N]`
 * (N = 200).
 *
 * @module
 */

import { serve } from "@wskit/wskit";
import { sessions } from "@wskit/wskit/session";
import { type PresenceEvent, SessionClient } from "@wskit/wskit/session-client";
import { runtime } from "../tests/_support/harness.ts";
import { type Child, runArgs, spawn, waitForStart } from "../tests/_support/process.ts";
import { startRedis } from "../tests/_support/redis.ts";
import { args, exit } from "../tests/_support/this_process.ts";
import { deferred, pause, within } from "../tests/_support/wait.ts";
import { median } from "./stats.ts";

const argv = args();
const at = argv.indexOf("--joins");
const N = at >= 0 ? Number(argv[at + 1]) : 200;
const ROOM = "bench";
const LEASE = 3000;

/** Runs `redis-cli` against the private server; resolves with its output. */
async function cli(port: number, ...command: string[]): Promise<string> {
  const child = spawn("redis-cli", ["-p", String(port), ...command]);
  await within(child.exited, `redis-cli ${command[0]}`, 10_000);
  return child.lines.join("\n");
}

/** Calls per command since the last reset, and their total. */
async function commands(port: number): Promise<{ total: number; by: Record<string, number> }> {
  const by: Record<string, number> = {};
  let total = 0;
  for (const line of (await cli(port, "INFO", "commandstats")).split("\n")) {
    const m = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line);
    // INFO itself and the resets are the benchmark's, not the application's.
    if (!m || m[1] === "info" || m[1] === "config|resetstat") continue;
    by[m[1]!] = Number(m[2]);
    total += Number(m[2]);
  }
  return { total, by };
}

async function startNode(url: string, lease: string): Promise<{ child: Child; url: string }> {
  const child = spawn(
    ...runArgs(runtime, "tests/fixtures/presence_node.ts", [url, "10000", lease], {
      deno: ["-A"],
    }),
  );
  const line = await waitForStart(child, /^listening ws:\/\//);
  return { child, url: line.slice("listening ".length) };
}

function client(url: string): SessionClient {
  return new SessionClient(url, { minDelay: 50, maxDelay: 500 });
}

/** Resolves with the next presence event of `change` for `id` at `watcher`. */
function heard(watcher: SessionClient, change: string, id: () => string): Promise<number> {
  const d = deferred<number>();
  const on = (e: PresenceEvent) => {
    if (e.change !== change || e.id !== id()) return;
    watcher.removeEventListener("presence", on);
    d.resolve(performance.now());
  };
  watcher.addEventListener("presence", on);
  return within(d.promise, `a ${change} at the watcher`, 10_000);
}

/**
 * N joins and leaves of `joiner` watched by `watcher` (already in the room, or not watching).
 *
 * @returns The delays of the joins as the watcher heard them, in ms.
 */
async function joins(joiner: SessionClient, watcher: SessionClient | undefined): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < N; i++) {
    const joined = watcher ? heard(watcher, "join", () => joiner.id) : undefined;
    const start = performance.now();
    await joiner.join(ROOM, { presence: { name: `joiner`, i } });
    if (joined) delays.push((await joined) - start);
    const left = watcher ? heard(watcher, "leave", () => joiner.id) : undefined;
    await joiner.leave(ROOM);
    await left;
  }
  return delays;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The join/leave loop on two instances; the commands it made per join + leave. */
async function storeCost(
  presence: boolean,
): Promise<{ perCycle: number; by: string; delays: number[] }> {
  const redis = await startRedis();
  const nodes = [await startNode(redis.url, presence ? String(LEASE) : "off")];
  nodes.push(await startNode(redis.url, presence ? String(LEASE) : "off"));
  const joiner = client(nodes[0]!.url);
  const watcher = client(nodes[1]!.url);
  try {
    await watcher.join(ROOM, { presence: { name: "watcher" } });
    await joiner.join("warm-up");
    await cli(redis.port, "CONFIG", "RESETSTAT");
    const delays = await joins(joiner, presence ? watcher : undefined);
    const { total, by } = await commands(redis.port);
    const list = Object.entries(by).sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => `${name} ${round(calls / N)}`).join(", ");
    return { perCycle: total / N, by: list, delays };
  } finally {
    joiner.close();
    watcher.close();
    for (const node of nodes) await node.child.stop("SIGTERM");
    await redis.stop();
  }
}

/** Commands per heartbeat, with `members` idle members on two instances. */
async function beatCost(members: number): Promise<{ perBeat: number; by: string }> {
  const redis = await startRedis();
  const nodes = [
    await startNode(redis.url, String(LEASE)),
    await startNode(redis.url, String(LEASE)),
  ];
  const clients: SessionClient[] = [];
  try {
    for (let i = 0; i < members; i++) clients.push(client(nodes[i % 2]!.url));
    await Promise.all(clients.map((c, i) => c.join(ROOM, { presence: { name: `m${i}` } })));
    await cli(redis.port, "CONFIG", "RESETSTAT");
    const seconds = 6;
    await pause(seconds * 1000); // a measurement, not a test: idle time is what is measured
    const { total, by } = await commands(redis.port);
    const beats = 2 * seconds * 1000 / (LEASE / 3);
    const list = Object.entries(by).map(([name, calls]) => `${name} ${round(calls / beats)}`)
      .join(", ");
    return { perBeat: total / beats, by: list };
  } finally {
    for (const c of clients) c.close();
    for (const node of nodes) await node.child.stop("SIGTERM");
    await redis.stop();
  }
}

/** The join delay in one process: memory store, no relay. */
async function oneProcess(): Promise<number[]> {
  const app = sessions({ presence: true });
  const server = await serve(app.hooks, { port: 0 });
  const joiner = client(server.url);
  const watcher = client(server.url);
  try {
    await watcher.join(ROOM, { presence: { name: "watcher" } });
    await joins(joiner, undefined); // warm-up
    return await joins(joiner, watcher);
  } finally {
    joiner.close();
    watcher.close();
    await server.close();
  }
}

if (!(N >= 10)) {
  console.error("Cannot measure: --joins must be >= 10");
  exit(2);
}
console.log(`presence on ${runtime}, ${N} joins and leaves each`);
const local = await oneProcess();
console.log(
  `one process: a join heard by another member after ${round(median(local))} ms (median)`,
);
const off = await storeCost(false);
const on = await storeCost(true);
console.log(
  `two instances on Redis: a join heard on the other instance after ${
    round(median(on.delays))
  } ms (median)`,
);
console.log(`Redis commands per join + leave, presence off: ${round(off.perCycle)} (${off.by})`);
console.log(`Redis commands per join + leave, presence on: ${round(on.perCycle)} (${on.by})`);
console.log(`  presence adds ${round(on.perCycle - off.perCycle)} per join + leave`);
for (const members of [10, 200]) {
  const beat = await beatCost(members);
  console.log(
    `Redis commands per heartbeat, ${members} idle members on 2 instances: ${
      round(beat.perBeat)
    } (${beat.by})`,
  );
}
exit(0);
