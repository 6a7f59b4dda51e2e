/**
 * The server of `bench/session_memory.ts`, one file for both runtimes: `sessions()` with its
 * defaults (window, store) and `plain` hooks that count plain connections. The orchestrator
 * drives it over stdin: `step <label> <key>=<n> ...` waits (with a deadline) until the
 * server's own counts (`plain`, `sessions`, `connected`, `rooms`: memberships) are those,
 * collects garbage, and prints `step <label> heap=<bytes> rss=<bytes> external=<bytes>
 * store=<bytes>`; `exit` ends it. Run Deno with `--v8-flags=--expose-gc`.
 *
 * @module
 */

import { serve } from "@wskit/wskit";
import { MemoryStore, sessions } from "@wskit/wskit/session";
import {
  collectGarbage,
  exit,
  memoryUsage,
  stdinLines,
} from "../../tests/_support/this_process.ts";
import { waitFor } from "../../tests/_support/wait.ts";

let plain = 0;
// Passed in rather than left to the default only to read its `bytes`: the same window.
const store = new MemoryStore();
const app = sessions({
  store,
  // The benchmark opens its sessions as fast as it can; admission is not what it measures.
  limits: { maxSessionsPerSecond: 1_000_000, maxSessions: 1_000_000 },
  plain: {
    open() {
      plain++;
    },
    close() {
      plain--;
    },
  },
});
const server = await serve(app.hooks, {
  hostname: "127.0.0.1",
  port: 0,
  maxConnections: 1_000_000,
});

function counts(): Record<string, number> {
  const stats = app.stats();
  let rooms = 0;
  for (const session of app.sessions.values()) rooms += session.rooms.size;
  return { plain, sessions: stats.sessions, connected: stats.connected, rooms };
}

function matches(want: Record<string, number>): boolean {
  const now = counts();
  return Object.entries(want).every(([key, n]) => now[key] === n);
}

console.log(`ready ${server.port}`);
for await (const line of stdinLines()) {
  const [command, label, ...pairs] = line.split(" ");
  if (command === "exit") break;
  if (command !== "step") continue;
  const want = Object.fromEntries(pairs.map((p) => p.split("=")).map(([k, v]) => [k, Number(v)]));
  try {
    await waitFor(() => matches(want), `the counts ${pairs.join(" ")}`, 120_000);
  } catch (error) {
    console.log(`error ${label} ${(error as Error).message}, have ${JSON.stringify(counts())}`);
    continue;
  }
  // A few rounds, each after a turn of the event loop: Bun releases part of what closed
  // sockets held only on a later turn (about 250 KB after the warm-up, read in one turn).
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
  }
  const m = memoryUsage();
  console.log(
    `step ${label} heap=${m.heapUsed} rss=${m.rss} external=${m.external} store=${store.bytes}`,
  );
}
exit(0);
