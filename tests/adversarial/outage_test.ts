// Sessions across two instances (Deno and Bun) while Redis is killed and restarted under a
// stream of events: an event is confirmed only once recorded, handled once, and every
// publish reaches every member (a Redis that keeps its data), or a member that misses one is
// told (a Redis that restarts empty).

import { assert, assertEquals } from "@std/assert";
import { otherRuntime as other, runtime, test } from "../_support/harness.ts";
import { startRedis } from "../_support/redis.ts";
import { waitFor } from "../_support/wait.ts";
import { type Member, member, type Node, startNode } from "./_nodes.ts";

const EVENTS = 250;

/**
 * Streams events through a Redis outage. `storeTimeout` short of the outage makes the
 * store's writes fail (not just wait): then nothing may be confirmed that was not recorded.
 */
async function streamThroughOutage(persist: boolean, storeTimeout = 10_000) {
  const redis = await startRedis({ persist });
  const nodes: Node[] = [];
  const members: Member[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    for (const r of [runtime, other] as const) {
      nodes.push(await startNode(r, redis.url, storeTimeout));
    }
    for (const node of nodes) members.push(await member(node.url));
    const [sender, far] = members as [Member, Member];
    let sent = 0;
    // One event every 20 ms for about 5 s; Redis dies after one second, for about one.
    const done = new Promise<void>((resolve) => {
      timer = setInterval(() => {
        sender.client.emit("say", { id: String(sent++) });
        if (sent === EVENTS) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    await waitFor(() => sent >= 50, "the stream to run");
    await redis.kill();
    const downAt = sent;
    await waitFor(() => sent >= downAt + 50, "a second of events with Redis down", 10_000);
    await redis.restart();
    await done;
    await waitFor(() => sender.client.pending === 0, "every event confirmed", 30_000);
    const all = Array.from({ length: EVENTS }, (_, i) => String(i));
    await waitFor(() => sender.said.length >= EVENTS, "the sender's own copies", 30_000);
    const handled = (await Promise.all(nodes.map((n) => n.handled()))).flatMap((h) => h.handled);
    const stats = (await Promise.all(nodes.map((n) => n.handled()))).map((h) => h.stats);
    const failures = stats.reduce((n, s) => n + s.storeFailures!, 0);
    if (storeTimeout >= 10_000) {
      assertEquals(handled.sort((a, b) => Number(a) - Number(b)), all, "each event handled once");
    } else {
      // A write that failed confirms nothing: the event is handled again after the client
      // resends it, and its keyed writes record nothing twice.
      assert(failures > 0, "the store failed writes");
      assertEquals([...new Set(handled)].sort((a, b) => Number(a) - Number(b)), all);
    }
    assertEquals(sender.said, all, "the sender's instance delivers every publish, once, in order");
    if (persist) {
      await waitFor(() => far.said.length >= EVENTS, "every publish at the other instance", 30_000);
      assertEquals(far.said, all, "the other instance delivers every publish, once, in order");
      assertEquals(sender.resyncs, []);
      assertEquals(far.resyncs, []);
    } else {
      // What was in flight to Redis's pub/sub when it died is gone with its data: the far
      // member may miss it, but is told so, and gets everything after, in order.
      await waitFor(() => far.said.at(-1) === String(EVENTS - 1), "the last publish far away");
      assertEquals(new Set(far.said).size, far.said.length, "nothing twice");
      assertEquals(far.said, [...far.said].sort((a, b) => Number(a) - Number(b)), "in order");
      const missed = EVENTS - far.said.length;
      if (missed > 0) assert(far.resyncs.length > 0, `${missed} missed without a resync`);
      console.log(
        `outage (Redis restarted empty): far member missed ${missed}, resyncs ${far.resyncs}`,
      );
    }
    console.log(
      `outage (${
        persist ? "persistent" : "empty"
      } Redis, store timeout ${storeTimeout} ms): ${EVENTS} events, handled ${handled.length}, ${
        stats.map((s) => `fills ${s.fills}, store failures ${s.storeFailures}`).join("; ")
      }`,
    );
  } finally {
    clearInterval(timer);
    for (const m of members) m.client.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  }
}

test(
  "sessions: Redis (with persistence) killed and restarted under a stream of events across a Deno and a Bun instance: each handled once, every publish at every member",
  () => streamThroughOutage(true),
  { timeout: 90_000, requires: ["redis-server"] },
);

test(
  "sessions: Redis restarted empty under a stream of events: each handled once, and a member that missed a publish is told",
  () => streamThroughOutage(false),
  { timeout: 90_000, requires: ["redis-server"] },
);

test(
  "sessions: store writes that fail during a Redis outage confirm nothing: the client resends, and every publish reaches every member once",
  () => streamThroughOutage(true, 300),
  { timeout: 90_000, requires: ["redis-server"] },
);
