// Sessions across instances on one Redis: two and three instances publishing to one room at
// full speed, Deno and Bun mixed. Every member gets every message once, in one order.

import { assertEquals } from "@std/assert";
import { otherRuntime as other, runtime, test } from "../_support/harness.ts";
import { startRedis } from "../_support/redis.ts";
import { everyoneHas, type Member, member, type Node, startNode } from "./_nodes.ts";

const PER_CLIENT = 500;

test(
  "sessions: 3 instances (Deno and Bun) on one Redis, each client sends 500 room messages at full speed: all get all 1500 once, in the same order",
  async () => {
    const redis = await startRedis();
    const nodes: Node[] = [];
    const members: Member[] = [];
    try {
      for (const r of [runtime, other, runtime] as const) nodes.push(await startNode(r, redis.url));
      for (const node of nodes) members.push(await member(node.url));
      members.forEach((m, i) => {
        for (let n = 0; n < PER_CLIENT; n++) m.client.emit("say", { id: `${i}:${n}` });
      });
      const total = PER_CLIENT * members.length;
      await everyoneHas(members, total, 60_000);
      const first = members[0]!.said;
      assertEquals(new Set(first).size, total, "each message once");
      for (const m of members) {
        assertEquals(m.said.length, total, "no message twice");
        assertEquals(m.said, first, "one order everywhere");
        assertEquals(m.resyncs, [], "nothing declared lost");
      }
      // Each sender's messages in the order it sent them.
      for (let i = 0; i < members.length; i++) {
        const mine = first.filter((id) => id.startsWith(`${i}:`));
        assertEquals(mine, Array.from({ length: PER_CLIENT }, (_, n) => `${i}:${n}`));
      }
      const handled = (await Promise.all(nodes.map((n) => n.handled()))).flatMap((h) => h.handled);
      assertEquals(handled.length, total, "every event handled once");
      assertEquals(new Set(handled).size, total);
      const fills = (await Promise.all(nodes.map((n) => n.handled())))
        .map((h) => h.stats.fills);
      console.log(
        `instances: ${total} messages at 3 members in one order; gaps filled from the store: ${
          fills.join(", ")
        }`,
      );
    } finally {
      for (const m of members) m.client.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    }
  },
  { timeout: 90_000, requires: ["redis-server"] },
);
