// Generated hostile session frames against a session server in a process of its own: it
// stays up, keeps answering a well-behaved client beside the garbage, and its memory, once
// the hostile clients are gone and the window has passed, is back within a stated bound.

import { assert, assertEquals, assertLess } from "@std/assert";
import { SUBPROTOCOL, VERSION } from "../../src/session/wire.ts";
import { SessionClient } from "@wskit/wskit/session-client";
import { env, runtime, test } from "../_support/harness.ts";
import { flags } from "../_support/runtime_flags.ts";
import { waitFor } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";
import { FrameMaker, prng } from "./_frames.ts";
import { startTarget, type Target } from "./_target.ts";

const FRAMES = Number(env("WSKIT_FUZZ_FRAMES") ?? 20_000);
const WORKERS = 8;
const MiB = 1024 * 1024;
/**
 * What the server may keep after the hostile clients are gone and the window has passed:
 * the live JS heap returns within a few MiB; RSS does not return whole, because the runtime
 * keeps freed native memory in its allocator.
 */
const RSS_BOUND = flags.rssKeptAfterFuzzMiB * MiB;
const HEAP_BOUND = 4 * MiB;

/** A well-behaved client asking `echo` over and over; every answer must be right. */
function goodClient(url: string) {
  const client = new SessionClient(url, { minDelay: 20, maxDelay: 200 });
  let answered = 0;
  const wrong: unknown[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      try {
        const got = await client.request("echo", { n }, { timeout: 10_000 });
        if ((got as { n: number }).n === n) answered++;
        else wrong.push(got);
      } catch (error) {
        wrong.push(error);
      }
    }
  })();
  return {
    get answered() {
      return answered;
    },
    wrong,
    async stop() {
      running = false;
      await loop;
      client.close();
    },
  };
}

/** Sends frames from one hostile client after another until `budget` frames have gone out. */
async function fuzzer(url: string, maker: FrameMaker, budget: { left: number; sent: number }) {
  while (budget.left > 0) {
    let raw: TestClient;
    try {
      raw = await TestClient.connect(url, SUBPROTOCOL);
    } catch {
      continue; // refused (a limit): try again
    }
    raw.send(JSON.stringify({ t: "hello", v: VERSION }));
    // Frames that read as the protocol's, hostile in every name and value, then one that
    // the server must refuse, which ends the connection.
    let frames = 20 + Math.floor(Math.random() * 200);
    while (budget.left > 0 && frames > 0 && raw.ws.readyState === WebSocket.OPEN) {
      for (let i = 0; i < 20 && budget.left > 0 && frames > 0; i++, frames--) {
        raw.send(frames === 1 ? maker.fatal() : maker.valid());
        budget.left--;
        budget.sent++;
      }
      await new Promise((r) => setTimeout(r, 0)); // let answers and closes come in
    }
    await raw.close();
  }
}

async function settled(target: Target, sessions: number): Promise<void> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const s = await target.stats();
    if (s.sessions.sessions <= sessions && s.server.peers <= sessions) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Cannot see the server settle: ${JSON.stringify(await target.stats())}`);
}

test(
  `sessions on ${runtime}: ${FRAMES} generated hostile frames; the server stays up, answers a good client beside them, and its memory returns`,
  async () => {
    const seed = Number(env("WSKIT_FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`fuzz seed ${seed} (WSKIT_FUZZ_SEED=${seed} replays it)`);
    const target = await startTarget(500);
    try {
      // Warm up with a little of everything, so that the baseline holds compiled code.
      const warm = { left: 400, sent: 0 };
      await fuzzer(target.url, new FrameMaker(prng(seed ^ 1)), warm);
      await settled(target, 0);
      const before = await target.memory();
      const good = goodClient(target.url);
      const budget = { left: FRAMES, sent: 0 };
      const started = Date.now();
      await Promise.all(
        Array.from(
          { length: WORKERS },
          (_, i) => fuzzer(target.url, new FrameMaker(prng(seed + i)), budget),
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      await waitFor(() => good.answered > 0, "the good client answered", 10_000);
      await good.stop();
      assert(target.alive(), "the server is still running");
      assertEquals(good.wrong, [], "every request of the good client answered right");
      await settled(target, 0);
      const after = await target.memory();
      const stats = await target.stats();
      console.log(
        `fuzz on ${runtime}: ${budget.sent} frames (${stats.received} received) in ${
          seconds.toFixed(1)
        } s, good client answered ${good.answered}; ` +
          `RSS ${(before.rss / MiB).toFixed(1)} -> ${(after.rss / MiB).toFixed(1)} MiB, heap ${
            (before.heap / MiB).toFixed(1)
          } -> ${(after.heap / MiB).toFixed(1)} MiB (total ${
            ((after as { total?: number }).total! / MiB).toFixed(1)
          }), external ${(before.external / MiB).toFixed(1)} -> ${
            (after.external / MiB).toFixed(1)
          } MiB; ${JSON.stringify(stats.sessions)}`,
      );
      assert(budget.sent >= FRAMES);
      assert(stats.received >= FRAMES * 0.9, `the server read ${stats.received} frames`);
      assertLess(after.rss - before.rss, RSS_BOUND, "RSS back within the bound");
      assertLess(after.heap - before.heap, HEAP_BOUND, "JS heap back within the bound");
    } finally {
      await target.stop();
    }
  },
  { timeout: 180_000 },
);
