// Redis, for real: the RESP subset, the relay between instances, an outage of Redis in the
// middle, the session store, and a session that moves from one instance to another.

import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { type Hooks, serve, type Server } from "@wskit/wskit";
import { encodeCommand, RespError, RespParser } from "../src/relay/_resp.ts";
import { RedisRelay, type RedisRelayOptions, RedisStore } from "@wskit/wskit/redis";
import { SessionClient } from "@wskit/wskit/session-client";
import { sessions } from "@wskit/wskit/session";
import { test } from "./_support/harness.ts";
import { type RunningExample, startExample } from "./_support/process.ts";
import { type Proxy, type ProxyOptions, startProxy } from "./_support/proxy.ts";
import { type RedisServer, startRedis } from "./_support/redis.ts";
import { waitFor } from "./_support/wait.ts";
import { type Received, TestClient } from "./_support/ws.ts";
import type { TestProtocol } from "./fixtures/session_protocol.ts";

const REDIS = { requires: ["redis-server"], timeout: 40_000 };
const encoder = new TextEncoder();

test("resp: a Redis loading its data, busy or failing over refuses for a while: transient", () => {
  const parser = new RespParser();
  parser.push(encoder.encode("-LOADING Redis is loading the dataset in memory\r\n-ERR syntax\r\n"));
  const loading = parser.next() as RespError;
  const syntax = parser.next() as RespError;
  assertEquals([loading.transient, syntax.transient], [true, false]);
});

test("resp: replies are parsed whole, however the bytes are split", () => {
  const wire = encoder.encode(
    "+OK\r\n:42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$3\r\n\x00\x01\x02\r\n-ERR bad\r\n",
  );
  for (const step of [1, 3, wire.length]) {
    const parser = new RespParser();
    const got: unknown[] = [];
    for (let i = 0; i < wire.length; i += step) {
      parser.push(wire.subarray(i, i + step));
      for (let v = parser.next(); v !== undefined; v = parser.next()) got.push(v);
    }
    assertEquals(got.length, 6, `split every ${step} bytes`);
    assertEquals(got.slice(0, 2), ["OK", 42]);
    assertEquals(new TextDecoder().decode(got[2] as Uint8Array), "he\r\nl", "binary-safe bulk");
    assertEquals(got[3], null);
    assertEquals((got[4] as Uint8Array[])[2], new Uint8Array([0, 1, 2]));
    assertInstanceOf(got[5], RespError);
  }
  assertEquals(
    new TextDecoder().decode(encodeCommand(["SET", "k", 1])),
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n",
  );
});

const room: Hooks = {
  open: (peer) => peer.subscribe("room"),
  message: (peer, m) => peer.publish("room", m, { self: true }),
};

/** Two instances of the room on `redis`; when they cannot connect, nothing is left running. */
async function twoInstances(redis: RedisServer): Promise<[Server, Server]> {
  const a = await serve(room, { port: 0, relay: new RedisRelay({ url: redis.url, settle: 50 }) });
  const b = await serve(room, { port: 0, relay: new RedisRelay({ url: redis.url, settle: 50 }) });
  try {
    await waitFor(
      () => a.stats().relay!.connected && b.stats().relay!.connected,
      "both relays connected",
    );
  } catch (error) {
    await a.close();
    await b.close();
    await redis.stop();
    throw error;
  }
  return [a, b];
}

test(
  "redis relay: two instances share a room: every message once, in order per sender",
  async () => {
    const redis = await startRedis();
    const [a, b] = await twoInstances(redis);
    try {
      const onA = await TestClient.connect(a.url);
      const onB = await TestClient.connect(b.url);
      await waitFor(() => a.stats().peers === 1 && b.stats().peers === 1, "both peers");
      for (let i = 0; i < 300; i++) {
        onA.send(`a${i}`);
        onB.send(`b${i}`);
      }
      await waitFor(
        () => onA.messages.length === 600 && onB.messages.length === 600,
        "600 messages at each client",
        20_000,
      );
      for (const c of [onA, onB]) {
        const fromA = c.messages.filter((m) => (m as string).startsWith("a"));
        const fromB = c.messages.filter((m) => (m as string).startsWith("b"));
        assertEquals(fromA, Array.from({ length: 300 }, (_, i) => `a${i}`));
        assertEquals(fromB, Array.from({ length: 300 }, (_, i) => `b${i}`));
      }
      await Promise.all([onA.close(), onB.close()]);
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  },
  REDIS,
);

test(
  "redis relay: Redis dies and comes back: local chat never stops, the relay recovers",
  async () => {
    const redis = await startRedis();
    const [a, b] = await twoInstances(redis);
    try {
      const a1 = await TestClient.connect(a.url);
      const a2 = await TestClient.connect(a.url);
      const onB = await TestClient.connect(b.url);
      await waitFor(() => a.stats().peers === 2 && b.stats().peers === 1, "three peers");
      a1.send("before");
      await waitFor(() => onB.messages.length === 1, "the first message across");
      await redis.kill();
      await waitFor(() => !a.stats().relay!.connected, "the outage to show in stats");
      // Local traffic keeps flowing while Redis is gone; the publishes wait in the buffer.
      for (let i = 0; i < 20; i++) a1.send(`during ${i}`);
      await waitFor(() => a2.messages.length === 21, "local delivery during the outage");
      assertEquals(a.stats().relay!.buffered, 20);
      assertEquals(a.stats().relay!.lastError !== undefined, true);
      await redis.restart();
      await waitFor(
        () => a.stats().relay!.connected && b.stats().relay!.connected,
        "both relays back",
        15_000,
      );
      await waitFor(() => a.stats().relay!.buffered === 0, "the buffer sent", 5_000);
      a1.send("after");
      await waitFor(() => onB.messages.at(-1) === "after", "a message across after the outage");
      // As documented: what was buffered goes out once the link is back, after a settle delay
      // for the others to resubscribe; nothing arrives twice, and order holds.
      const crossed = onB.messages.filter((m) => (m as string).startsWith("during"));
      assertEquals(crossed, Array.from({ length: crossed.length }, (_, i) => `during ${i}`));
      assertEquals(a.stats().relay!.dropped, 0);
      console.log(`outage: ${crossed.length} of 20 buffered publishes reached the other instance`);
      assert(a.stats().relay!.reconnects >= 1);
      await Promise.all([a1.close(), a2.close(), onB.close()]);
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  },
  REDIS,
);

test("redis store: offsets, replay from a position, and eviction tell the truth", async () => {
  const redis = await startRedis();
  const store = new RedisStore({ url: redis.url, prefix: "t", window: { maxCount: 100 } });
  try {
    const [epoch, empty] = await store.position("r:x");
    assertEquals(empty, 0);
    for (let i = 1; i <= 5; i++) assertEquals(await store.append("r:x", `{"o":`, `,"n":${i}}`), i);
    assertEquals(await store.since("r:x", [epoch, 2]), [
      '{"o":3,"n":3}',
      '{"o":4,"n":4}',
      '{"o":5,"n":5}',
    ]);
    assertEquals(await store.since("r:x", [epoch, 5]), []);
    assertEquals(await store.since("r:x", ["another epoch", 2]), null);
    assertEquals(await store.since("r:x", [epoch, 9]), null, "a position from the future");
    for (let i = 6; i <= 400; i++) await store.append("r:x", `{"o":`, "}");
    assertEquals(await store.since("r:x", [epoch, 2]), null, "evicted: not recoverable");
    await store.saveSession({
      sid: "s1",
      pid: "p1",
      identity: "ada",
      data: { n: 1 },
      rooms: ["x"],
      lastSeq: 7,
    });
    assertEquals((await store.loadSession("s1"))?.lastSeq, 7);
    await store.removeSession("s1");
    assertEquals(await store.loadSession("s1"), undefined);
  } finally {
    await store.close();
    await redis.stop();
  }
}, REDIS);

/** Two instances of the room, a cut off from Redis at will, and a client of the other. */
interface OneSideOutage {
  /** Reaches Redis through a proxy. */
  a: Server;
  /** Reaches Redis directly, and stays subscribed throughout. */
  b: Server;
  proxy: Proxy;
  /** A client of b, which has received "before" from a. */
  onB: TestClient;
  /** Takes Redis away from a, and returns once a keeps its publishes in the buffer. */
  outage(): Promise<void>;
  /** What reached b's client from publishes that start with `prefix`. */
  got(prefix: string): Received[];
}

/** Runs `body` with a fresh Redis and a {@linkcode OneSideOutage}, closing all afterwards. */
async function withOneSideOutage(
  options: RedisRelayOptions,
  proxyOptions: ProxyOptions,
  body: (t: OneSideOutage) => Promise<void>,
): Promise<void> {
  const redis = await startRedis();
  // Refusing a's connections takes Redis away from a alone.
  const proxy = startProxy(redis.port, proxyOptions);
  const url = `redis://127.0.0.1:${proxy.port}`;
  const a = await serve(room, { port: 0, relay: new RedisRelay({ ...options, url }) });
  const b = await serve(room, { port: 0, relay: new RedisRelay({ ...options, url: redis.url }) });
  let onB: TestClient | undefined;
  try {
    await waitFor(() => a.stats().relay!.connected && b.stats().relay!.connected, "relays");
    onB = await TestClient.connect(b.url);
    await waitFor(() => b.stats().peers === 1, "b's peer");
    a.publish("room", "before");
    assertEquals(await onB.next(), "before");
    const client = onB;
    await body({
      a,
      b,
      proxy,
      onB,
      async outage() {
        proxy.refuse(true);
        await waitFor(() => !a.stats().relay!.connected, "a to see the outage");
        // The publishing link may notice a moment after the subscribing one: probe until a
        // publish stays in the buffer (a probe sent into the dying link is lost, and counted).
        for (let probes = 1; a.stats().relay!.buffered === 0; probes++) {
          if (probes > 200) throw new Error("Cannot see the outage: publishes still go out");
          a.publish("room", "probe");
          if (a.stats().relay!.buffered === 0) await new Promise((r) => setTimeout(r, 5));
        }
      },
      got: (prefix) => client.messages.filter((m) => (m as string).startsWith(prefix)),
    });
  } finally {
    await onB?.close();
    await a.close();
    await b.close();
    proxy.close();
    await redis.stop();
  }
}

test(
  "redis relay: publishes buffered while Redis is away go out settle ms after the link is back, all of them, in order",
  async () => {
    const settle = 400;
    // When a's publishing connection was accepted, and when it sent its first PUBLISH.
    const publishes: { acceptedAt: number; at: number }[] = [];
    const onUpstream: ProxyOptions["onUpstream"] = (conn, data) => {
      if (new TextDecoder().decode(data).includes("PUBLISH")) {
        publishes.push({ acceptedAt: conn.acceptedAt, at: Date.now() });
      }
    };
    await withOneSideOutage({ settle }, { onUpstream }, async (t) => {
      await t.outage();
      const N = 50;
      for (let i = 0; i < N; i++) t.a.publish("room", `during ${i}`);
      assertEquals(t.a.stats().relay!.buffered, N + 1, "the probe, then the N");
      const sentBefore = publishes.length;
      t.proxy.refuse(false);
      await waitFor(() => t.got("during").length === N, `the ${N} buffered publishes at b`, 15_000);
      assertEquals(t.got("during"), Array.from({ length: N }, (_, i) => `during ${i}`));
      assertEquals(t.a.stats().relay!.buffered, 0);
      const flush = publishes[sentBefore]!;
      const waited = flush.at - flush.acceptedAt;
      console.log(
        `relay: the buffer went out ${waited} ms after the link was back (settle ${settle})`,
      );
      // The proxy accepts a moment before the relay sees its connection: a little slack.
      assert(waited >= settle - 50, `sent ${waited} ms after the link was back, not ${settle}`);
      t.a.publish("room", "after");
      assertEquals(await t.onB.until((m) => m === "after"), "after");
    });
  },
  REDIS,
);

test(
  "redis relay: past maxBuffered, publishes made during an outage are dropped and counted",
  async () => {
    await withOneSideOutage({ settle: 20, maxBuffered: 5 }, {}, async (t) => {
      await t.outage();
      const dropped = t.a.stats().relay!.dropped; // probes lost in the dying link, if any
      for (let i = 0; i < 8; i++) t.a.publish("room", `during ${i}`);
      assertEquals(t.a.stats().relay!.buffered, 5, "the probe and 4 publishes");
      assertEquals(t.a.stats().relay!.dropped - dropped, 4);
      t.proxy.refuse(false);
      await waitFor(() => t.a.stats().relay!.buffered === 0, "the buffer sent", 15_000);
      t.a.publish("room", "after");
      await t.onB.until((m) => m === "after", 15_000);
      assertEquals(t.got("during"), ["during 0", "during 1", "during 2", "during 3"]);
    });
  },
  REDIS,
);

test("redis store: entries older than maxAge are not replayed, younger ones are", async () => {
  const redis = await startRedis();
  const maxAge = 300;
  const store = new RedisStore({ url: redis.url, prefix: "age", window: { maxAge } });
  try {
    const [epoch] = await store.position("r:x");
    for (let i = 1; i <= 3; i++) await store.append("r:x", `{"o":`, "}");
    const written = Date.now();
    assertEquals(await store.since("r:x", [epoch, 1]), ['{"o":2}', '{"o":3}'], "young: replayed");
    // The store reads the wall clock: the entries have to grow old for real.
    await waitFor(() => Date.now() > written + maxAge + 10, "the entries to pass maxAge", 5_000);
    assertEquals(await store.since("r:x", [epoch, 1]), null, "older than maxAge: not recoverable");
    assertEquals(await store.since("r:x", [epoch, 3]), [], "nothing missed: nothing to replay");
    await store.append("r:x", `{"o":`, "}");
    assertEquals(await store.since("r:x", [epoch, 3]), ['{"o":4}'], "a young entry after old ones");
    assertEquals(await store.since("r:x", [epoch, 2]), null, "a gap that starts with an old one");
  } finally {
    await store.close();
    await redis.stop();
  }
}, REDIS);

test(
  "redis sessions: room history older than the store's maxAge: resumed, but recovered false",
  async () => {
    const redis = await startRedis();
    const maxAge = 300;
    const app = sessions<TestProtocol, { user: string }>({
      identify: () => "ada",
      // The session waits for its client far longer than the room history lasts.
      window: { maxAge: 60_000 },
      store: new RedisStore({ url: redis.url, prefix: "aged", window: { maxAge } }),
      error: () => {},
    });
    const server = await serve(app.hooks, { port: 0 });
    const proxy = startProxy(server.port);
    const client = new SessionClient<TestProtocol>(`ws://127.0.0.1:${proxy.port}/`, {
      minDelay: 10,
      maxDelay: 50,
      heartbeat: false,
    });
    const opens: { resumed: boolean; recovered: boolean }[] = [];
    client.addEventListener("open", (e) => opens.push(e));
    const got: number[] = [];
    client.on("tick", ({ n }) => void got.push(n));
    try {
      await client.join("feed");
      app.publish("feed", "tick", { n: 1 });
      await waitFor(() => got.length === 1, "the first tick");
      proxy.down(true);
      proxy.cut();
      await waitFor(() => [...app.sessions.values()][0]?.connected === false, "the disconnect");
      app.publish("feed", "tick", { n: 2 });
      const published = Date.now();
      await waitFor(() => Date.now() > published + maxAge + 10, "the tick to pass maxAge", 5_000);
      proxy.down(false);
      await waitFor(() => opens.length === 2, "the reconnect", 10_000);
      assertEquals(
        { resumed: opens[1]!.resumed, recovered: opens[1]!.recovered },
        { resumed: true, recovered: false },
      );
      assertEquals(got, [1], "no silent replay of what aged out");
    } finally {
      client.close();
      proxy.close();
      await server.close();
      await redis.stop();
    }
  },
  REDIS,
);

test(
  "redis sessions: a client moved from instance A to instance B resumes with no gap",
  async () => {
    const redis = await startRedis();
    const make = () =>
      sessions<TestProtocol, { user: string }>({
        upgrade: (request) => ({
          data: { user: new URL(request.url).searchParams.get("user") ?? "?" },
        }),
        identify: (data) => data.user,
        store: new RedisStore({ url: redis.url, prefix: "move" }),
        events: { note: (_s, { n }) => void handled.push(n) },
      });
    const handled: number[] = [];
    const appA = make();
    const appB = make();
    const a = await serve(appA.hooks, {
      port: 0,
      relay: new RedisRelay({ url: redis.url, channel: "move" }),
    });
    const b = await serve(appB.hooks, {
      port: 0,
      relay: new RedisRelay({ url: redis.url, channel: "move" }),
    });
    const proxy = startProxy(a.port);
    const client = new SessionClient<TestProtocol>(`ws://127.0.0.1:${proxy.port}/?user=ada`, {
      minDelay: 10,
      maxDelay: 100,
      heartbeat: false,
    });
    const got: number[] = [];
    client.on("tick", ({ n }) => void got.push(n));
    const opens: { resumed: boolean; recovered: boolean }[] = [];
    client.addEventListener(
      "open",
      (e) => opens.push({ resumed: e.resumed, recovered: e.recovered }),
    );
    try {
      await waitFor(() => a.stats().relay!.connected && b.stats().relay!.connected, "relays");
      await client.join("feed");
      for (let n = 0; n < 100; n++) {
        appA.publish("feed", "tick", { n });
        client.emit("note", { n });
      }
      await waitFor(() => got.length === 100 && handled.length === 100, "the first hundred");
      // The load balancer now sends the client to B, and its link to A breaks.
      proxy.retarget(b.port);
      proxy.down(true);
      proxy.cut();
      for (let n = 100; n < 200; n++) appA.publish("feed", "tick", { n }); // while it moves
      for (let n = 100; n < 150; n++) client.emit("note", { n }); // queued while it moves
      proxy.down(false);
      await waitFor(() => opens.length === 2, "the reconnect to B", 10_000);
      assertEquals(opens[1], { resumed: true, recovered: true });
      for (let n = 200; n < 300; n++) appB.publish("feed", "tick", { n });
      for (let n = 150; n < 200; n++) client.emit("note", { n });
      await waitFor(() => got.length >= 300 && handled.length >= 200, "everything", 15_000);
      assertEquals(got, Array.from({ length: 300 }, (_, i) => i), "no gap, no duplicate");
      assertEquals(handled, Array.from({ length: 200 }, (_, i) => i), "each event handled once");
      assertEquals(appB.sessions.size, 1, "B has the session");
      await waitFor(() => appA.sessions.size === 0, "A let it go without ending it");
    } finally {
      client.close();
      proxy.close();
      await a.close();
      await b.close();
      await redis.stop();
    }
  },
  REDIS,
);

test(
  "examples/chat_app/main.ts --redis: a Deno and a Bun instance share the room, once, in order per sender",
  async () => {
    const redis = await startRedis();
    const running: RunningExample[] = [];
    const clients: TestClient[] = [];
    try {
      // Inside the try: an example that fails to start must not leave Redis running.
      const args = ["--port", "0", "--redis", redis.url];
      const onDeno = await startExample("deno", "chat_app/main", args);
      running.push(onDeno);
      const onBun = await startExample("bun", "chat_app/main", args);
      running.push(onBun);
      const d = await TestClient.connect(onDeno.url);
      clients.push(d);
      await d.json(); // welcome
      const b = await TestClient.connect(onBun.url);
      clients.push(b);
      await b.json();
      // Both relays are up once the Deno side hears of the Bun side's newcomer.
      await d.until((m) => JSON.parse(m as string).type === "join");
      // 30 each: within the chat's burst of 40 messages a person (20 a second).
      for (let i = 0; i < 30; i++) {
        d.send(`deno ${i}`);
        b.send(`bun ${i}`);
      }
      const texts = (c: TestClient, prefix: string) =>
        c.messages.map((m) => JSON.parse(m as string)).filter((m) => m.type === "message")
          .map((m) => m.text as string).filter((t) => t.startsWith(prefix));
      for (const c of [d, b]) {
        await waitFor(
          () => texts(c, "deno").length === 30 && texts(c, "bun").length === 30,
          "every message at every client",
          15_000,
        );
        assertEquals(texts(c, "deno"), Array.from({ length: 30 }, (_, i) => `deno ${i}`));
        assertEquals(texts(c, "bun"), Array.from({ length: 30 }, (_, i) => `bun ${i}`));
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      for (const example of running) await example.stop();
      await redis.stop();
    }
  },
  REDIS,
);
