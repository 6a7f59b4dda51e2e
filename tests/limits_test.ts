// The protective limits, the same on both runtimes: origin, max payload, max connections,
// rate limit, backpressure, idle timeout.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLessOrEqual,
  assertMatch,
} from "@std/assert";
import { type Hooks, LimitError, serve, type ServeOptions, type Server } from "@wskit/wskit";
import { test } from "./_support/harness.ts";
import { flags } from "./_support/runtime_flags.ts";
import { withServer } from "./_support/serve.ts";
import { rawWebSocket } from "./_support/raw_ws.ts";
import { frame } from "./_support/ws_wire.ts";
import { rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { waitFor, within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

/** The limits' tests read better with the options before the body. */
function withLimits<T>(
  hooks: Hooks<T>,
  options: ServeOptions,
  body: (server: Server<T>) => Promise<void>,
): Promise<void> {
  return withServer(hooks, body, options);
}

const echo: Hooks = { message: (peer, m) => void peer.send(m) };

test("origin: by default a browser page from another site gets 403; same origin and no origin pass", async () => {
  await withLimits(echo, {}, async (server) => {
    const port = server.port;
    const evil = await rawHttp(port, upgradeRequest("/", { origin: "https://evil.example" }));
    assertEquals(evil.status, 403);
    assertMatch(evil.body, /origin https:\/\/evil\.example may not open a WebSocket/);
    const opaque = await rawHttp(port, upgradeRequest("/", { origin: "null" }));
    assertEquals(opaque.status, 403);
    const same = await rawHttp(
      port,
      upgradeRequest("/", { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }),
    );
    assertEquals(same.status, 101);
    const none = await rawHttp(port, upgradeRequest("/"));
    assertEquals(none.status, 101);
    assertEquals(server.stats().refused.origin, 2);
  });
});

test("origin: an allow-list, '*' and a function decide instead of the default", async () => {
  await withLimits(echo, { origins: ["https://App.Example"] }, async (server) => {
    const ok = await rawHttp(server.port, upgradeRequest("/", { origin: "https://app.example" }));
    assertEquals(ok.status, 101);
    const no = await rawHttp(server.port, upgradeRequest("/", { origin: "https://other.example" }));
    assertEquals(no.status, 403);
  });
  await withLimits(echo, { origins: ["*"] }, async (server) => {
    const any = await rawHttp(server.port, upgradeRequest("/", { origin: "https://x.example" }));
    assertEquals(any.status, 101);
  });
  await withLimits(echo, { origins: (o) => o.endsWith(".trusted.example") }, async (server) => {
    const sub = await rawHttp(
      server.port,
      upgradeRequest("/", { origin: "https://a.trusted.example" }),
    );
    assertEquals(sub.status, 101);
    const no = await rawHttp(
      server.port,
      upgradeRequest("/", { origin: "https://trusted.example.evil" }),
    );
    assertEquals(no.status, 403);
  });
});

test("origin: an allow-list entry or a public origin that is not a URL is refused at start", async () => {
  const cases: [ServeOptions, RegExp][] = [
    [{ origins: ["not a url"] }, /^Cannot allow origin "not a url"/],
    [{ publicOrigins: ["chat.example"] }, /^Cannot use public origin "chat.example"/],
  ];
  for (const [options, message] of cases) {
    let error: unknown;
    try {
      await serve(echo, { port: 0, ...options });
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, TypeError);
    assertMatch((error as Error).message, message);
  }
});

test("maxPayloadBytes: a larger message closes its peer with 1009; the limit itself passes", async () => {
  const closes: unknown[] = [];
  await withLimits(
    {
      message: (peer, m) => void peer.send(typeof m === "string" ? `${m.length}` : `${m.length}b`),
      close: (_p, details) => void closes.push(details),
    },
    { maxPayloadBytes: 1024 },
    async (server) => {
      const c = await TestClient.connect(server.url);
      c.send(new Uint8Array(1024));
      assertEquals(await c.next(), "1024b");
      c.send("é".repeat(512)); // 1024 bytes of UTF-8
      assertEquals(await c.next(), "512");
      c.send("é".repeat(513)); // 1026 bytes
      const e = await within(c.closed, "1009");
      assertEquals(e.code, 1009);
      await waitFor(() => closes.length === 1, "the close hook");
      assertEquals((closes[0] as { code: number }).code, 1009);
      assertEquals(server.stats().closed.tooBig, 1);
      const other = await TestClient.connect(server.url);
      other.send(new Uint8Array(4096));
      assertEquals((await within(other.closed, "1009")).code, 1009);
    },
  );
});

test("maxConnections: past it upgrades get 503 with a reason; a freed place is taken again", async () => {
  await withLimits(echo, { maxConnections: 2 }, async (server) => {
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    const full = await rawHttp(server.port, upgradeRequest("/"));
    assertEquals(full.status, 503);
    assertMatch(full.body, /maximum of 2 connections/);
    assertEquals(server.stats().refused.capacity, 1);
    await a.close();
    await waitFor(() => server.stats().peers === 1, "a freed place");
    const c = await TestClient.connect(server.url);
    c.send("in");
    assertEquals(await c.next(), "in");
    await b.close();
    await c.close();
  });
});

test("rateLimit: over the rate the peer is closed with 1008 (policy close)", async () => {
  const closes: unknown[] = [];
  await withLimits({ ...echo, close: (_p, d) => void closes.push(d) }, {
    rateLimit: { messages: 5, burst: 1000 },
  }, async (server) => {
    const calm = await TestClient.connect(server.url);
    const flood = await TestClient.connect(server.url);
    for (let i = 0; i < 50; i++) flood.send(`m${i}`);
    const e = await within(flood.closed, "the close");
    assertEquals([e.code, e.reason], [1008, "Rate limit exceeded"]);
    await waitFor(() => closes.length === 1, "the close hook");
    assertEquals(closes[0], { code: 1008, reason: "Rate limit exceeded" });
    assertLessOrEqual(flood.messages.length, 6, "about a burst got through");
    calm.send("still fine");
    assertEquals(await calm.next(), "still fine");
    assertEquals(server.stats().closed.rateLimit, 1);
    await calm.close();
  });
});

test("rateLimit: policy drop drops the excess, reports a LimitError and keeps the peer", async () => {
  const errors: unknown[] = [];
  await withLimits({ ...echo, error: (_p, e) => void errors.push(e) }, {
    rateLimit: { messages: 1000, bytes: 100, burst: 1000, policy: "drop" },
  }, async (server) => {
    const c = await TestClient.connect(server.url);
    c.send("x".repeat(60));
    c.send("y".repeat(60)); // over 100 bytes within the second
    assertEquals(await c.next(), "x".repeat(60));
    await waitFor(() => errors.length === 1, "the refusal");
    assertInstanceOf(errors[0], LimitError);
    assertEquals((errors[0] as LimitError).code, 1008);
    assertEquals(server.stats().refused.rateLimit, 1);
    // The bucket refills: a small message gets through again within a deadline.
    let back = false;
    for (let i = 0; i < 60 && !back; i++) {
      c.send("z");
      back = await c.next(100).then((m) => m === "z", () => false);
    }
    assert(back, "a message passes once the bucket has refilled");
    assertEquals(c.ws.readyState, WebSocket.OPEN);
    await c.close();
  });
});

for (const policy of ["drop", "close"] as const) {
  test(
    `backpressure (${policy}): a peer that stops reading stays bounded; the others lose nothing`,
    async () => {
      const limit = 256 * 1024;
      const chunk = "c".repeat(16 * 1024);
      const closes: { code: number }[] = [];
      await withLimits(
        {
          open: (peer) => peer.subscribe("room"),
          close: (_p, d) => void closes.push(d),
        },
        { backpressure: { maxBytes: limit, policy } },
        async (server) => {
          const slow = await rawWebSocket(server.port);
          const reader = await TestClient.connect(server.url);
          await waitFor(() => server.stats().subscribers.room === 2, "two subscribers");
          slow.conn.pause();
          let peak = 0;
          const total = 400; // 6.4 MB in all, 25 times the limit
          for (let i = 0; i < total; i++) {
            server.publish("room", `${i}:${chunk}`);
            if (i % 8 === 7) {
              // Bursts below the limit, each read by the healthy client before the next, as in a
              // chat; the slow one falls further behind with every burst.
              peak = Math.max(peak, server.stats().queuedBytes);
              await waitFor(() => reader.messages.length === i + 1, `message ${i} at the reader`);
            }
          }
          assertEquals(reader.messages.length, total);
          reader.messages.forEach((m, i) =>
            assert((m as string).startsWith(`${i}:`), `order at ${i}`)
          );
          // Bounded: never much more than the limit plus a burst in flight.
          assertLessOrEqual(peak, limit + 16 * (chunk.length + 8), `peak queued ${peak}`);
          console.log(
            `backpressure (${policy}): peak queued ${peak} bytes for a limit of ${limit}, ` +
              `${total} messages of ${chunk.length} bytes sent`,
          );
          const stats = server.stats();
          if (policy === "close") {
            await waitFor(() => closes.length === 1, "the slow peer's close");
            if (flags.exactBackpressureCounters) {
              assertEquals(closes[0]!.code, 1013);
              assertEquals(stats.closed.backpressure, 1);
            }
            assertEquals(server.stats().peers, 1);
          } else {
            assertEquals(closes.length, 0, "the slow peer stays connected");
            if (flags.exactBackpressureCounters) assert(stats.dropped > 0, "drops are counted");
            assertEquals(stats.slowPeers, 1);
          }
          slow.conn.close();
          await reader.close();
        },
      );
    },
    { timeout: 30_000 },
  );
}

test(
  "idleTimeout: a connection that never answers pings is closed; the hook sees 1006 Idle timeout",
  async () => {
    const idle = Math.max(1_000, flags.idleTimeoutMinMs) / 1000;
    const closes: unknown[] = [];
    await withLimits(
      { close: (_p, d) => void closes.push(d) },
      { idleTimeout: idle * 1000 },
      async (server) => {
        const silent = await rawWebSocket(server.port);
        const started = Date.now();
        await waitFor(() => closes.length === 1, "the idle close", (idle * 2 + 4) * 1000);
        const took = (Date.now() - started) / 1000;
        assertEquals(closes[0], { code: 1006, reason: "Idle timeout" });
        assert(took >= idle - 0.5, `closed after ${took} s, not before the timeout`);
        assertEquals(server.stats().closed.idle, 1);
        silent.conn.close();
      },
    );
  },
  { timeout: 30_000 },
);

test("limits that are not positive numbers are refused at start with a RangeError", async () => {
  for (const options of [{ maxPayloadBytes: 0 }, { maxConnections: -1 }, { idleTimeout: NaN }]) {
    let error: unknown;
    try {
      await serve(echo, { port: 0, ...options });
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, RangeError, JSON.stringify(options));
    assertMatch((error as Error).message, /^Cannot configure/);
  }
});

test("drain: a send that reports queued is followed by the drain hook once the peer reads", async () => {
  const chunk = new Uint8Array(32 * 1024);
  let drains = 0;
  let queuedAt = -1;
  await withLimits(
    {
      message(peer) {
        // Send until the runtime reports backpressure, then stop and wait for drain.
        for (let i = 0; i < 200; i++) {
          if (peer.send(chunk) === "queued") {
            queuedAt = i;
            return;
          }
        }
      },
      drain: () => void drains++,
    },
    {},
    async (server) => {
      const raw = await rawWebSocket(server.port);
      raw.conn.pause();
      raw.write(frame(1, "go"));
      await waitFor(() => queuedAt >= 0, "a queued send");
      assertEquals(drains, 0);
      raw.conn.resume();
      await waitFor(() => drains >= 1, "the drain hook");
      raw.conn.close();
    },
  );
});
