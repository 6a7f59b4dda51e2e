// The rate limit against clients that keep sending: the close frame with 1008 reaches them
// (on Deno, only those that stop sending once it is sent: see flags.closeFrameToFloodingClient), and the bucket refills at the configured rate (a steady rate above it is
// refused, a steady rate below it is not), which an instant flood alone could not show.

import { assert, assertEquals, assertGreater } from "@std/assert";
import type { Hooks, Server } from "@wskit/wskit";
import { test } from "../_support/harness.ts";
import { flags } from "../_support/runtime_flags.ts";
import { rawWebSocket } from "../_support/raw_ws.ts";
import { frame } from "../_support/ws_wire.ts";
import { withServer } from "../_support/serve.ts";
import { waitFor, within } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";

const echo: Hooks = { message: (peer, m) => void peer.send(m) };

test("rateLimit: a client flooding past the limit gets the 1008 close frame on both runtimes", async () => {
  await withServer(echo, async (server) => {
    const flood = await TestClient.connect(server.url);
    for (let i = 0; i < 200; i++) flood.send(`m${i}`);
    const e = await within(flood.closed, "the close");
    assertEquals([e.code, e.reason], [1008, "Rate limit exceeded"]);
    assertEquals(server.stats().closed.rateLimit, 1);
  }, { rateLimit: { messages: 5, burst: 1000 } });
});

test(
  "rateLimit: a raw client that never stops sending is closed with 1008 (on Deno its reset may hide the frame)",
  async () => {
    await withServer(echo, async (server) => {
      const raw = await rawWebSocket(server.port);
      let sent = 0;
      // Keeps writing until the server ends the connection (bounded, in case it never does).
      while (!raw.conn.isClosed && sent < 20_000) {
        for (let i = 0; i < 20; i++) raw.write(frame(1, `flood ${sent++}`));
        await new Promise((r) => setTimeout(r, 1));
      }
      await within(raw.conn.closed, "the connection to end");
      const code = raw.closeCode();
      if (flags.closeFrameToFloodingClient) assertEquals(code, 1008);
      else assert(code === 1008 || code === undefined, `close code ${code}`);
      await waitFor(() => server.stats().closed.rateLimit === 1, "the counter");
    }, { rateLimit: { messages: 5, burst: 1000 } });
  },
  { timeout: 30_000 },
);

/**
 * Sends `perTick` messages every `tickMs` for 1.5 s, starting a tick only once the previous
 * one is sent, so that a slow machine lowers the rate rather than bunching messages.
 *
 * @returns How many were sent.
 */
async function steady(server: Server, perTick: number, tickMs: number): Promise<number> {
  const c = await TestClient.connect(server.url);
  const end = Date.now() + 1_500;
  let sent = 0;
  while (Date.now() < end) {
    for (let i = 0; i < perTick; i++) c.send(`s${sent++}`);
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await c.close();
  return sent;
}

test(
  "rateLimit: a steady rate above the limit is refused, one below it for as long is not",
  async () => {
    // 20 messages/s, half a second of burst: 10 in the bucket, refilled at 20 per second. A
    // refill too fast lets the first client through; one too slow refuses the second.
    const rateLimit = { messages: 20, burst: 500, policy: "drop" } as const;
    const refused = async (perTick: number, tickMs: number) => {
      let seen = 0;
      let sent = 0;
      await withServer({ ...echo, error: () => void seen++ }, async (server) => {
        sent = await steady(server, perTick, tickMs);
        // Every message was handled (echoed or refused) before the close reached the server.
        assertEquals(server.stats().refused.rateLimit, seen);
      }, { rateLimit });
      return { sent, refused: seen };
    };
    const above = await refused(5, 50); // 100 per second
    assertGreater(above.refused, 0, `none of ${above.sent} messages at 100/s was refused`);
    const below = await refused(1, 100); // 10 per second
    assertGreater(below.sent, 10, "more messages than the bucket holds: it must refill");
    assertEquals(below.refused, 0, `${below.refused} of ${below.sent} at 10/s refused`);
  },
  { timeout: 30_000 },
);
