// What hostile session clients can make a server hold, measured in a process of its own:
// rooms with long names, huge unknown request names, sessions opened and dropped by the
// thousand. While they are connected the server holds little; once they are gone and the
// window has passed, its memory is back near the start.

import { assert, assertLess } from "@std/assert";
import { SUBPROTOCOL, VERSION } from "../../src/session/wire.ts";
import { runtime, test } from "../_support/harness.ts";
import { flags } from "../_support/runtime_flags.ts";
import { helloSession, TestClient } from "../_support/ws.ts";
import { answer, clientFrame } from "../_support/session_wire.ts";
import { startTarget, type Target } from "./_target.ts";

const MiB = 1024 * 1024;
/**
 * The JS heap the hostile clients may add while connected (Deno keeps each open socket's
 * last message, here 3 MiB for each of the four), and what may remain after.
 */
const HEAP_WHILE = 32 * MiB;
const HEAP_AFTER = 4 * MiB;
/** RSS that may remain: freed native memory the runtime's allocator keeps. */
const RSS_AFTER = flags.rssKeptAfterHugeMessagesMiB * MiB;

async function hostile(target: Target): Promise<TestClient[]> {
  const held: TestClient[] = [];
  const huge = "n".repeat(3 * MiB);
  for (let c = 0; c < 4; c++) {
    const [raw] = await helloSession(target.url);
    held.push(raw);
    let q = 0;
    for (let r = 0; r < 80; r++) {
      raw.send(clientFrame({ t: "j", q: ++q, r: `${"r".repeat(120)}${c}-${r}` }));
    }
    for (let i = 0; i < 5; i++) raw.send(clientFrame({ t: "r", q: ++q, e: huge + i }));
    for (let i = 0; i < 5; i++) raw.send(clientFrame({ t: "j", q: ++q, r: huge + i }));
    await answer(raw, q, 10_000);
  }
  // Sessions opened and dropped, as fast as the server lets them be made.
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(Array.from({ length: 50 }, async () => {
      try {
        const raw = await TestClient.connect(target.url, SUBPROTOCOL);
        raw.send(JSON.stringify({ t: "hello", v: VERSION }));
        await raw.next(5_000).catch(() => {});
        await raw.close();
      } catch { /* refused by a limit */ }
    }));
  }
  return held;
}

test(
  `sessions on ${runtime}: long room names, 3 MiB request names and 1000 dropped sessions hold little, and leave nothing once the window passes`,
  async () => {
    const target = await startTarget(1000);
    try {
      const [warm] = await helloSession(target.url);
      await warm.close();
      const start = await target.memory();
      const held = await hostile(target);
      const during = await target.memory();
      const stats = await target.stats();
      for (const raw of held) await raw.close();
      const end = Date.now() + 20_000;
      while ((await target.stats()).sessions.sessions > 0) {
        assert(Date.now() < end, "the sessions expire with the window");
        await new Promise((r) => setTimeout(r, 100));
      }
      const after = await target.memory();
      const f = (n: number) => (n / MiB).toFixed(1);
      console.log(
        `memory on ${runtime}: heap ${f(start.heap)} -> ${
          f(during.heap)
        } (attack, ${stats.sessions.sessions} sessions) -> ${f(after.heap)} MiB; RSS ${
          f(start.rss)
        } -> ${f(during.rss)} -> ${f(after.rss)} MiB`,
      );
      assertLess(during.heap - start.heap, HEAP_WHILE, "little held during the attack");
      assertLess(after.heap - start.heap, HEAP_AFTER, "the JS heap returns");
      assertLess(after.rss - start.rss, RSS_AFTER, "RSS returns within the bound");
    } finally {
      await target.stop();
    }
  },
  { timeout: 120_000 },
);
