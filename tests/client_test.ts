// The reconnecting client against in-process servers: the backoff formula, the close-code
// policy and the providers as units, then the WebSocket surface, reconnects, the outbox, the
// heartbeat and the browser events through real connections. Faults that need processes, a
// proxy or a mute server are in client_faults_test.ts.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertNotEquals,
  assertThrows,
} from "@std/assert";
import { type Hooks, type Peer, serve, type ServeOptions, type Server } from "@wskit/wskit";
import {
  backoffDelay,
  defaultShouldReconnect,
  ReconnectingWebSocket,
  type ReconnectingWebSocketOptions,
} from "@wskit/wskit/client";
import { connect as connectClient, Recorder, shut } from "./_support/client.ts";
import { test } from "./_support/harness.ts";
import { withServer as withServerOnly } from "./_support/serve.ts";
import { deferred, waitFor, within } from "./_support/wait.ts";

/** `withServer` that also closes every client `connect` made, before the server. */
function withServer<T>(
  hooks: Hooks<T>,
  body: (server: Server<T>) => Promise<void>,
  options: ServeOptions = {},
): Promise<void> {
  return withServerOnly(hooks, async (server) => {
    try {
      await body(server);
    } finally {
      // A failed assertion must not leave a client reconnecting into the next test.
      for (const client of clients) client.close();
      clients.clear();
    }
  }, options);
}

const clients = new Set<ReconnectingWebSocket>();

/** A client with test-sized delays, closed at the end of `withServer` whatever happens. */
function connect(...args: Parameters<typeof connectClient>): [ReconnectingWebSocket, Recorder] {
  const [client, rec] = connectClient(...args);
  clients.add(client);
  return [client, rec];
}

const served = new WeakMap<Server<unknown>, Set<string>>();

/** The server's one peer, once it has one it has not handed out before. */
async function onlyPeer(server: Server<unknown>): Promise<Peer<unknown>> {
  const old = served.get(server) ?? new Set();
  served.set(server, old);
  const fresh = () => [...server.peers.values()].filter((p) => !old.has(p.id));
  await waitFor(() => server.peers.size === 1 && fresh().length === 1, "one new peer");
  const peer = fresh()[0]!;
  old.add(peer.id);
  return peer;
}

/** A port nothing listens on: a server that started and stopped. */
async function deadPort(): Promise<number> {
  const server = await serve({}, { port: 0 });
  await server.close();
  await server.finished;
  return server.port;
}

const echo: Hooks = { message: (peer, m) => void peer.send(m) };

test("backoffDelay() draws from [minDelay, min(maxDelay, minDelay * factor ** attempt)]", () => {
  const o = { minDelay: 1000, maxDelay: 30_000, factor: 2 };
  const top = () => 1 - Number.EPSILON;
  for (const attempt of [1, 2, 3, 10, 1000]) assertEquals(backoffDelay(attempt, o, () => 0), 1000);
  assertEquals([1, 2, 3, 4, 5, 6, 1000].map((n) => backoffDelay(n, o, top)), [
    2000,
    4000,
    8000,
    16_000,
    30_000,
    30_000,
    30_000,
  ]);
  assertEquals(backoffDelay(2, { minDelay: 100, maxDelay: 10_000, factor: 3 }, () => 0.5), 500);
  assertEquals(backoffDelay(7, { minDelay: 250, factor: 1 }, top), 250, "factor 1: fixed delay");
  assertEquals(backoffDelay(1, {}, () => 0), 1000, "the default minDelay");
  assertEquals(backoffDelay(9, {}, top), 30_000, "the default maxDelay");
  // With Math.random, every attempt draws anew: a spread over the whole window.
  const draws = Array.from({ length: 2000 }, () => backoffDelay(3, o));
  assert(draws.every((d) => d >= 1000 && d <= 8000));
  assert(Math.min(...draws) < 1300 && Math.max(...draws) > 7700, "covers the window");
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  assert(mean > 4200 && mean < 4800, `mean ${mean} near the middle, 4500`);
  for (const bad of [0, -1, 1.5, NaN]) assertThrows(() => backoffDelay(bad), RangeError);
  assertThrows(() => backoffDelay(1, { factor: 0.5 }), RangeError, "factor");
  assertThrows(() => backoffDelay(1, { minDelay: -1 }), RangeError, "minDelay");
});

test("defaultShouldReconnect() retries restarts and abnormal closes, not 'do not come back'", () => {
  const retry = [1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 3000, 4000, 4408, 4429, 4500];
  const stop = [1002, 1003, 1007, 1008, 1009, 1010, 4400, 4401, 4403, 4404, 4499];
  for (const code of retry) assertEquals(defaultShouldReconnect({ code }), true, `${code}`);
  for (const code of stop) assertEquals(defaultShouldReconnect({ code }), false, `${code}`);
});

test("the constructor checks a fixed URL and the options at once, by meaning", () => {
  for (const url of ["ftp://example.com/", "not a url", "/relative"]) {
    assertThrows(() => new ReconnectingWebSocket(url), TypeError, "Cannot connect");
  }
  assertThrows(() => new ReconnectingWebSocket(42 as unknown as string), TypeError);
  const bad: ReconnectingWebSocketOptions[] = [
    { minDelay: -1 },
    { factor: 0 },
    { maxRetries: -1 },
    { connectTimeout: 0 },
    { minUptime: NaN },
    { maxQueued: -5 },
    { heartbeat: { interval: 0 } },
    { heartbeat: { timeout: Infinity } },
  ];
  for (const options of bad) {
    assertThrows(
      () => new ReconnectingWebSocket("ws://127.0.0.1:9/", undefined, options),
      RangeError,
    );
  }
  // http: maps to ws: and fragments go, the same on every runtime; closed before connecting.
  const c = new ReconnectingWebSocket("http://127.0.0.1:9/x#frag", undefined, {
    environment: null,
  });
  assertEquals(c.url, "ws://127.0.0.1:9/x");
  assertThrows(() => c.close(1001), RangeError, "1000 or 3000-4999");
  assertThrows(() => c.close(3000.5), RangeError, "1000 or 3000-4999");
  assertThrows(() => c.close(1000, "é".repeat(62)), RangeError, "123 bytes");
  const rec = new Recorder(c);
  c.close(undefined, "bye"); // before the first attempt: closed at once, no socket made
  assertEquals(c.readyState, ReconnectingWebSocket.CLOSED);
  assertEquals(rec.events.map((e) => [e.type, e.code, e.reason, e.wasClean]), [
    ["close", 1000, "bye", false],
  ]);
});

test("drop-in: events, on* properties, readyState, url, protocol, text and bytes, close()", async () => {
  await withServer({
    upgrade: (_r, { protocols }) => protocols.includes("v2") ? { protocol: "v2" } : {},
    ...echo,
  }, async (server) => {
    const [client, rec] = connect(server.url, {}, ["v1", "v2"]);
    assertInstanceOf(client, EventTarget);
    assertEquals(
      [client.readyState, client.CONNECTING, client.OPEN, client.CLOSING, client.CLOSED],
      [0, 0, 1, 2, 3],
    );
    assertEquals(ReconnectingWebSocket.OPEN, 1);
    assertEquals([client.url, client.binaryType, client.protocol], [server.url, "blob", ""]);
    const calls: string[] = [];
    client.onopen = (e) => calls.push(`open:${e.type}`);
    client.onmessage = (e) => calls.push(`message:${typeof e.data}`);
    client.onclose = (e) => calls.push(`close:${e.code}`);
    client.onerror = () => calls.push("error");
    assertEquals(typeof client.onopen, "function");
    await rec.next("open", 1);
    assertEquals([client.readyState, client.protocol], [client.OPEN, "v2"]);
    assertEquals(client.send("héllo"), "sent");
    assertEquals((await rec.messagesAtLeast(1))[0], "héllo");
    client.send(new Uint8Array([1, 2, 3]));
    const blob = (await rec.messagesAtLeast(2))[1];
    assertInstanceOf(blob, Blob, "binaryType blob, as on WebSocket");
    assertEquals(new Uint8Array(await (blob as Blob).arrayBuffer()), new Uint8Array([1, 2, 3]));
    client.binaryType = "arraybuffer";
    client.send(new Uint16Array([0x0102]).buffer);
    assertInstanceOf((await rec.messagesAtLeast(3))[2], ArrayBuffer);
    assertThrows(() => client.binaryType = "nodebuffer" as "blob", TypeError);
    assertThrows(() => client.send({} as string), TypeError, "Cannot send");
    assertEquals(typeof client.bufferedAmount, "number");
    client.close(4000, "done");
    assertEquals(client.readyState, client.CLOSING);
    const closed = await rec.next("close", 1);
    assertEquals([closed.code, closed.reason, closed.wasClean, closed.state], [
      4000,
      "done",
      true,
      client.CLOSED,
    ]);
    assertEquals(rec.types, "connecting open message message message close");
    assertEquals(calls, [
      "open:open",
      "message:string",
      "message:object",
      "message:object",
      "close:4000",
    ]);
    client.onmessage = null;
    assertEquals(client.onmessage, null);
    // After close(), send() goes nowhere, and says so.
    assertEquals(client.send("late"), "dropped");
    assertEquals(rec.of("drop")[0]?.reason, "closed");
    assertEquals(rec.of("drop")[0]?.messages, ["late"]);
  });
});

test("the server closes with 1001 or 1012: the client reconnects by itself", async () => {
  await withServer(echo, async (server) => {
    const [client, rec] = connect(server.url);
    await rec.next("open", 1);
    for (const [i, code] of [[2, 1001], [3, 1012]] as const) {
      (await onlyPeer(server)).close(code, "restart");
      const closed = await rec.next("close", i - 1);
      assertEquals([closed.code, closed.reason, closed.wasClean], [code, "restart", true]);
      assertEquals(closed.state, client.CONNECTING, "readyState says a reconnect follows");
      await rec.next("open", i);
    }
    // Up for less than minUptime: the backoff goes on growing.
    assertEquals(rec.of("reconnect").map((e) => e.attempt), [1, 2]);
    assertEquals(rec.of("connecting").map((e) => e.attempt), [0, 1, 2]);
    client.send("still here");
    assertEquals(await rec.messagesAtLeast(1), ["still here"]);
    await shut(client, rec);
    // Up for long enough (here: any time at all), it starts over from the first attempt.
    const [steady, steadyRec] = connect(server.url, { minUptime: 0 });
    for (const i of [1, 2, 3]) {
      await steadyRec.next("open", i);
      (await onlyPeer(server)).close(1012, "restart");
      await steadyRec.next("reconnect", i);
    }
    assertEquals(steadyRec.of("reconnect").map((e) => e.attempt), [1, 1, 1]);
    await shut(steady, steadyRec);
  });
});

test("the server closes with 4401: no reconnect, the reason reaches the app, giveup says why", async () => {
  await withServer(echo, async (server) => {
    const [client, rec] = connect(server.url);
    await rec.next("open", 1);
    (await onlyPeer(server)).close(4401, "token expired");
    const giveup = await rec.next("giveup", 1);
    assertEquals(giveup.reason, "policy");
    const closed = rec.of("close")[0]!;
    assertEquals([closed.code, closed.reason, closed.state], [4401, "token expired", 3]);
    assertEquals(rec.types, "connecting open close giveup");
    assertEquals(client.readyState, client.CLOSED);
  });
});

test("shouldReconnect overrides the policy both ways and sees the real close event", async () => {
  await withServer(echo, async (server) => {
    const seen: number[] = [];
    const [client, rec] = connect(server.url, {
      shouldReconnect: (e) => {
        seen.push(e.code);
        return e.code === 4401; // the opposite of the default
      },
    });
    await rec.next("open", 1);
    (await onlyPeer(server)).close(4401, "retry anyway");
    await rec.next("open", 2);
    (await onlyPeer(server)).close(1001, "stop anyway");
    assertEquals((await rec.next("giveup", 1)).reason, "policy");
    assertEquals(seen, [4401, 1001]);
    assertEquals(client.readyState, client.CLOSED);
  });
});

test("maxRetries ends in giveup; a refused connection closes with 1006 on every runtime", async () => {
  const port = await deadPort();
  const [client, rec] = connect(`ws://127.0.0.1:${port}/`, { maxRetries: 2, minDelay: 5 });
  const giveup = await rec.next("giveup", 1);
  assertEquals([giveup.reason, giveup.attempt], ["max-retries", 2]);
  assertEquals(rec.of("connecting").map((e) => e.attempt), [0, 1, 2]);
  for (const close of rec.of("close")) {
    assertEquals([close.code, close.wasClean], [1006, false], "Deno's 0 normalized to 1006");
  }
  assertEquals(rec.of("close").length, 3);
  assertEquals(rec.of("error").length, 3);
  assertEquals(client.readyState, client.CLOSED);
});

test("a URL provider that throws, then rejects, then succeeds: the client connects", async () => {
  await withServer({
    upgrade: (request, { protocols }) => ({
      data: new URL(request.url).searchParams.get("token"),
      protocol: protocols[0] ?? "",
    }),
    open: (peer) => void peer.send(`token=${peer.data} protocol=${peer.protocol}`),
  }, async (server) => {
    let calls = 0;
    let protocolCalls = 0;
    const [client, rec] = connect(
      () => {
        calls++;
        if (calls === 1) throw new Error("token service down");
        if (calls === 2) return Promise.reject(new Error("still down"));
        return Promise.resolve(`${server.url}?token=t${calls}`);
      },
      {},
      async () => {
        await Promise.resolve();
        return [`p${++protocolCalls}`];
      },
    );
    assertEquals(client.url, "", "no URL before the provider ran");
    assertEquals(await rec.messagesAtLeast(1), ["token=t3 protocol=p1"]);
    assertEquals(rec.of("error").map((e) => e.message), [
      "Cannot connect: token service down",
      "Cannot connect: still down",
    ]);
    const closes = rec.of("close").map((e) => [e.code, e.reason]);
    assertEquals(closes, [
      [1006, "connect failed: token service down"],
      [1006, "connect failed: still down"],
    ]);
    assertEquals(client.url, `${server.url}?token=t3`);
    // Every attempt asks again: a fresh token and subprotocol after a restart.
    (await onlyPeer(server)).close(1012, "restart");
    assertEquals((await rec.messagesAtLeast(2))[1], "token=t4 protocol=p2");
    assertEquals(client.protocol, "p2");
    await shut(client, rec);
  });
});

test("a provider that never settles is abandoned after connectTimeout and retried", async () => {
  await withServer(echo, async (server) => {
    let calls = 0;
    const [client, rec] = connect(
      () => ++calls === 1 ? new Promise<string>(() => {}) : server.url,
      { connectTimeout: 100 },
    );
    await rec.next("open", 1);
    assertEquals(calls, 2);
    assertEquals(rec.of("close").map((e) => [e.code, e.reason]), [[1006, "connect timeout"]]);
    await shut(client, rec);
  });
});

test("the outbox: sent in order and once after open, bounded by count, overflow reported", async () => {
  const received: unknown[] = [];
  await withServer({
    message: (_p, m) => void received.push(m),
  }, async (server) => {
    const [client, rec] = connect(server.url, { maxQueued: 3 });
    assertEquals(client.send("a"), "queued");
    const bytes = new Uint8Array([1, 2]);
    assertEquals(client.send(bytes), "queued");
    bytes[0] = 9; // what was sent is what goes out, not a later change
    assertEquals(client.send("ç"), "queued");
    assertEquals(client.bufferedAmount, 1 + 2 + 2, "the outbox counts UTF-8 bytes");
    assertEquals(client.send("d"), "dropped");
    assertEquals(rec.of("drop").map((e) => [e.reason, e.messages]), [["overflow", ["d"]]]);
    // The open listener speaks first (authenticate there); then the outbox.
    client.addEventListener("open", () => client.send("first"), { once: true });
    await waitFor(() => received.length === 4, "four messages");
    assertEquals(received, ["first", "a", new Uint8Array([1, 2]), "ç"]);
    assertEquals(client.bufferedAmount >= 0 && client.bufferedAmount < 5, true);
    await shut(client, rec);
    assertEquals(received.length, 4, "nothing twice");
  });
});

test("the outbox is bounded by bytes; what is queued at a final close is reported", async () => {
  const port = await deadPort();
  const [client, rec] = connect(`ws://127.0.0.1:${port}/`, {
    maxQueuedBytes: 1000,
    minDelay: 10_000,
    maxDelay: 10_000,
  });
  assertEquals(client.send("x".repeat(600)), "queued");
  assertEquals(client.send("y".repeat(401)), "dropped");
  assertEquals(client.send("é".repeat(200)), "queued", "400 bytes: exactly full");
  assertEquals(client.bufferedAmount, 1000);
  assertEquals(client.send(new Uint8Array(1)), "dropped");
  assertEquals(rec.of("drop").map((e) => e.reason), ["overflow", "overflow"]);
  await rec.next("reconnect", 1);
  client.close(4000, "leaving");
  const closed = rec.of("close").at(-1)!;
  assertEquals([closed.code, closed.reason, closed.wasClean, closed.state], [
    4000,
    "leaving",
    false,
    3,
  ]);
  const last = rec.of("drop").at(-1)!;
  assertEquals([last.reason, last.messages], ["closed", ["x".repeat(600), "é".repeat(200)]]);
  assertEquals(client.bufferedAmount, 0);
});

test("binaryType survives a reconnect", async () => {
  await withServer({ open: (peer) => void peer.send(new Uint8Array([7])) }, async (server) => {
    const [client, rec] = connect(server.url);
    client.binaryType = "arraybuffer";
    await rec.messagesAtLeast(1);
    (await onlyPeer(server)).close(1012, "restart");
    const [first, second] = await rec.messagesAtLeast(2);
    assertInstanceOf(first, ArrayBuffer);
    assertInstanceOf(second, ArrayBuffer);
    assertEquals(new Uint8Array(second as ArrayBuffer), new Uint8Array([7]));
    await shut(client, rec);
  });
});

test("close() during a pending reconnect stops it for good", async () => {
  let upgrades = 0;
  await withServer({ upgrade: () => void upgrades++ }, async (server) => {
    const [client, rec] = connect(server.url, { minDelay: 150, maxDelay: 150 });
    await rec.next("open", 1);
    (await onlyPeer(server)).close(1001, "going away");
    const scheduled = await rec.next("reconnect", 1);
    assertEquals(client.readyState, client.CONNECTING);
    client.close(1000, "no more");
    assertEquals(client.readyState, client.CLOSED);
    assertEquals(rec.types, "connecting open close reconnect close");
    assertEquals(rec.of("close")[1]!.code, 1000);
    // Proving that something does not happen takes a wait: past the scheduled delay.
    await new Promise((r) => setTimeout(r, scheduled.delay! + 100));
    assertEquals([upgrades, rec.of("connecting").length], [1, 1]);
  });
});

test("for await yields messages but never the heartbeat pong, and ends with close()", async () => {
  const pings: number[] = [];
  await withServer({
    message(peer, m) {
      if (m === "ping?") {
        pings.push(Date.now());
        peer.send("pong!");
      } else peer.send(m);
    },
  }, async (server) => {
    const [client, rec] = connect(server.url, {
      heartbeat: { interval: 30, timeout: 1000, ping: "ping?", pong: "pong!" },
    });
    const got: unknown[] = [];
    const loop = (async () => {
      for await (const m of client) got.push(m);
    })();
    await rec.next("open", 1);
    await waitFor(() => pings.length >= 3, "three pings while idle");
    client.send("a");
    client.send("b");
    await waitFor(() => got.length === 2, "two messages");
    await waitFor(() => pings.length >= 5, "two more pings");
    client.close();
    await within(loop, "the end of the loop");
    assertEquals(got, ["a", "b"]);
    assertEquals(rec.messages, ["a", "b"], "no listener saw a pong");
    assertEquals(rec.of("close").length, 1, "pongs kept the link alive");
    // An iterator started after the end is done at once.
    for await (const _ of client) throw new Error("unreachable");
  });
});

test("heartbeat: send() notices a ping past its deadline even when the timer is late", async () => {
  // A server that never says anything: to the client the link may be half-open.
  const pings: number[] = [];
  const received: string[] = [];
  await withServer({
    message(_peer, m) {
      if (m === "mute ping") pings.push(Date.now());
      else received.push(m as string);
    },
  }, async (server) => {
    // The timer that would notice the dead link is not due during the test, as in a
    // background tab whose timers the browser throttles to once a minute or less.
    const timeout = 60_000;
    const [client, rec] = connect(server.url, {
      heartbeat: { interval: 20, timeout, ping: "mute ping", pong: "mute pong" },
    });
    await rec.next("open", 1);
    await waitFor(() => pings.length === 1, "a ping the server does not answer");
    assertEquals(client.send("before the deadline"), "sent", "a ping pending is no verdict");
    await waitFor(() => received.length === 1, "the message at the server");
    // Throttled timers: the clock runs on while the timer waits. Only the clock moves here.
    const realNow = Date.now;
    let status;
    Date.now = () => realNow() + timeout + 1;
    try {
      status = client.send("after the deadline");
    } finally {
      Date.now = realNow;
    }
    assertEquals(status, "queued", "the link is dead: the message waits for the next one");
    assertEquals(rec.of("close").map((e) => [e.code, e.reason, e.wasClean]), [
      [1006, "heartbeat timeout", false],
    ]);
    await rec.next("open", 2);
    await waitFor(() => received.length === 2, "the queued message, over the new link");
    assertEquals(received, ["before the deadline", "after the deadline"]);
  });
});

test("heartbeat: any message is a sign of life; data without pongs keeps the link up", async () => {
  const pings: number[] = [];
  const feeds = new Map<string, ReturnType<typeof setInterval>>();
  await withServer({
    // Sends data on its own every 50 ms and never answers a ping.
    open(peer) {
      let n = 0;
      feeds.set(peer.id, setInterval(() => peer.send(`data ${n++}`), 50));
    },
    message(_peer, m) {
      if (m === "mute ping") pings.push(Date.now());
    },
    close(peer) {
      clearInterval(feeds.get(peer.id));
      feeds.delete(peer.id);
    },
  }, async (server) => {
    // A ping goes out 20 ms after each message and is never answered; the next data, 30 ms
    // later, must count as the answer. Unanswered, the link would be dropped after 1 s.
    const [client, rec] = connect(server.url, {
      heartbeat: { interval: 20, timeout: 1000, ping: "mute ping", pong: "mute pong" },
    });
    await rec.next("open", 1);
    await rec.messagesAtLeast(40, 15_000); // 2 s of data: twice the timeout
    assertEquals(rec.of("close").length, 0, "never declared dead");
    assert(pings.length >= 10, `${pings.length} pings went unanswered meanwhile`);
    assertEquals(rec.messages.slice(0, 3), ["data 0", "data 1", "data 2"]);
    await shut(client, rec);
  });
});

test("online/visible make a pending reconnect happen now; offline marks the link down", async () => {
  await withServer(echo, async (server) => {
    const env = new EventTarget() as EventTarget & { visibilityState: string };
    env.visibilityState = "visible";
    const [client, rec] = connect(server.url, {
      environment: env,
      minDelay: 60_000,
      maxDelay: 60_000,
    });
    await rec.next("open", 1);
    await onlyPeer(server);
    env.dispatchEvent(new Event("offline"));
    const down = rec.of("close")[0]!;
    assertEquals([down.code, down.reason, down.wasClean], [1006, "offline", false]);
    assertEquals((await rec.next("reconnect", 1)).delay, 60_000);
    env.dispatchEvent(new Event("online"));
    await rec.next("open", 2);
    (await onlyPeer(server)).close(1012, "restart");
    await rec.next("reconnect", 2);
    env.visibilityState = "hidden";
    env.dispatchEvent(new Event("visibilitychange"));
    assertEquals(rec.of("connecting").length, 2, "hidden: keep waiting");
    env.visibilityState = "visible";
    env.dispatchEvent(new Event("visibilitychange"));
    await rec.next("open", 3);
    await shut(client, rec);
    env.dispatchEvent(new Event("online"));
    assertEquals(rec.of("connecting").length, 3, "after close() the events are not followed");
  });
});

test("a listener may close() from inside close, reconnect and open events", async () => {
  await withServer(echo, async (server) => {
    for (const type of ["open", "close", "reconnect", "connecting"] as const) {
      const [client, rec] = connect(server.url);
      const done = deferred<void>();
      client.addEventListener(type, () => {
        if (client.readyState !== client.CLOSED) client.close(4000, `from ${type}`);
        done.resolve();
      });
      if (type !== "open" && type !== "connecting") {
        await rec.next("open", 1);
        (await onlyPeer(server)).close(1012);
      }
      await within(done.promise, type);
      await waitFor(() => client.readyState === client.CLOSED, "closed");
      await waitFor(() => server.peers.size === 0, "no peer");
      assertNotEquals(rec.of("close").length, 0);
      assertMatch(rec.types, /close$/);
    }
  });
});
