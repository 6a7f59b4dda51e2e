// The session layer's features on both runtimes: typed events and requests (result, handler
// error, timeout, abort), server requests, rooms with authorization, binary payloads, the
// subprotocol switch between session and plain clients, and compile-time typing.

import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertLess,
  assertMatch,
  assertRejects,
} from "@std/assert";
import { serve } from "@wskit/wskit";
import { SUBPROTOCOL } from "../src/session/wire.ts";
import { SessionClient } from "@wskit/wskit/session-client";
import { RemoteError } from "@wskit/wskit/protocol";
import type { SessionOptions } from "@wskit/wskit/session";
import { runtime, test } from "./_support/harness.ts";
import { runtimeBin, spawn } from "./_support/process.ts";
import { waitFor, within } from "./_support/wait.ts";
import { helloSession, TestClient } from "./_support/ws.ts";
import { type TestProtocol, type UserData, userSessions } from "./fixtures/session_protocol.ts";

/** A session server for the tests, and a way to make clients of it. */
async function start(options: SessionOptions<TestProtocol, UserData> = {}) {
  const app = userSessions({
    requests: {
      add: (_s, { a, b }) => a + b,
      fail: (_s, { code }) => {
        throw new RemoteError(`Cannot do it: ${code}`, { code });
      },
      crash: () => {
        throw new Error("secret internal detail");
      },
      slow: async (_s, { ms }) => {
        await new Promise((r) => setTimeout(r, ms));
        return "late";
      },
      whoami: (s) => ({ user: s.data.user, id: s.id }),
    },
    error: () => {},
    ...options,
  });
  const server = await serve(app.hooks, { port: 0 });
  const clients: SessionClient<TestProtocol>[] = [];
  return {
    app,
    server,
    client(user = "ada") {
      const c = new SessionClient<TestProtocol>(`${server.url}?user=${user}`, {
        minDelay: 20,
        maxDelay: 200,
        heartbeat: false,
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

function opened(c: SessionClient<TestProtocol>) {
  return within(new Promise<Event>((r) => c.addEventListener("open", r, { once: true })), "open");
}

test("sessions: requests resolve with the handler's result; RemoteError keeps message and code", async () => {
  const t = await start();
  try {
    const c = t.client();
    assertEquals(await c.request("add", { a: 2, b: 40 }), 42);
    const e = await assertRejects(() => c.request("fail", { code: "nope" }), RemoteError);
    assertEquals([e.message, e.code], ["Cannot do it: nope", "nope"]);
    const crash = await assertRejects(() => c.request("crash", null), RemoteError);
    assertEquals([crash.message, crash.code], ["Internal error", "internal"], "no internals leak");
    const who = await c.request("whoami", null);
    assertEquals(who.user, "ada");
    assertEquals(who.id, c.id);
  } finally {
    await t.stop();
  }
});

test("sessions: a request times out with TimeoutError, and an abort cancels it", async () => {
  let finished = 0;
  const t = await start({
    requests: {
      add: (_s, { a, b }) => a + b,
      slow: async (_s, { ms }) => {
        await new Promise((r) => setTimeout(r, ms));
        finished++;
        return "late";
      },
    },
  });
  try {
    const c = t.client();
    await opened(c);
    const slow = await assertRejects(() => c.request("slow", { ms: 300 }, { timeout: 50 }));
    assertInstanceOf(slow, DOMException);
    assertEquals((slow as DOMException).name, "TimeoutError");
    const controller = new AbortController();
    const pending = c.request("slow", { ms: 300 }, { signal: controller.signal });
    controller.abort(new DOMException("user gave up", "AbortError"));
    const aborted = await assertRejects(() => pending);
    assertEquals((aborted as DOMException).name, "AbortError");
    // An already aborted signal rejects before anything is sent.
    await assertRejects(() => c.request("add", { a: 1, b: 1 }, { signal: AbortSignal.abort() }));
    // The session still works, and the late answers find no taker.
    assertEquals(await c.request("add", { a: 1, b: 2 }), 3);
    await waitFor(() => finished === 2, "both slow handlers to finish", 5_000);
  } finally {
    await t.stop();
  }
});

test("sessions: a request that times out while disconnected is never sent later", async () => {
  let slowCalls = 0;
  const t = await start({
    requests: {
      slow: () => {
        slowCalls++;
        return "ran";
      },
      add: (_s, { a, b }) => a + b,
    },
  });
  const c = new SessionClient<TestProtocol>("ws://127.0.0.1:9/", { heartbeat: false });
  try {
    const expired = await assertRejects(() => c.request("slow", { ms: 0 }, { timeout: 30 }));
    assertEquals((expired as DOMException).name, "TimeoutError");
    assertEquals(c.pending, 0, "the expired request left the outbox");
    assertEquals(slowCalls, 0);
  } finally {
    c.close();
    await t.stop();
  }
});

test("sessions: unknown requests and events are refused, names of Object.prototype too", async () => {
  const errors: string[] = [];
  const t = await start({
    events: { note: () => {} },
    error: (_s, e) => void errors.push((e as Error).message),
  });
  // Handlers are looked up by own property only: a client-chosen name never reaches what
  // every object inherits.
  const inherited = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"];
  try {
    const c = t.client() as unknown as SessionClient;
    for (const name of ["nothing", ...inherited]) {
      const e = await assertRejects(() => c.request(name, null), RemoteError);
      assertEquals(e.code, "unknown_request", name);
    }
    for (const name of inherited) c.emit(name, {});
    c.emit("note", {});
    await waitFor(() => c.pending === 0, "every event confirmed");
    assertEquals(errors.length, inherited.length, errors.join("; "));
    for (const m of errors) assertMatch(m, /^Cannot handle event .*: no handler$/);
  } finally {
    await t.stop();
  }
});

test("sessions: events reach their handlers in order; the server requests from a client", async () => {
  const seen: number[] = [];
  const t = await start({
    events: { note: (_s, { n }) => void seen.push(n) },
  });
  try {
    const c = t.client();
    c.handle("confirm", ({ question }) => question === "sure?");
    for (let n = 0; n < 100; n++) c.emit("note", { n });
    await waitFor(() => seen.length === 100, "100 events");
    assertEquals(seen, Array.from({ length: 100 }, (_, i) => i));
    const session = [...t.app.sessions.values()][0]!;
    assertEquals(await session.request("confirm", { question: "sure?" }), true);
    assertEquals(await session.request("confirm", { question: "no" }), false);
    await waitFor(() => c.pending === 0, "every message confirmed");
  } finally {
    await t.stop();
  }
});

test("sessions: rooms are joined on request, authorized by the join hook, and published to", async () => {
  const t = await start({ join: (s, room) => room !== "secret" || s.data.user === "root" });
  try {
    const a = t.client("ada");
    const b = t.client("bob");
    const aSaid: string[] = [];
    const bSaid: string[] = [];
    a.on("said", (m) => void aSaid.push(`${m.from}:${m.text}`));
    b.on("said", (m) => void bSaid.push(`${m.from}:${m.text}`));
    await a.join("lobby");
    await b.join("lobby");
    const refused = await assertRejects(() => b.join("secret"), RemoteError);
    assertEquals(refused.code, "forbidden");
    assertEquals([...b.rooms], ["lobby"]);
    t.app.publish("lobby", "said", { from: "server", text: "hi" });
    const sa = [...t.app.sessions.values()].find((s) => s.data.user === "ada")!;
    sa.publish("lobby", "said", { from: "ada", text: "not to myself" });
    sa.publish("lobby", "said", { from: "ada", text: "to all" }, { self: true });
    await waitFor(() => bSaid.length === 3 && aSaid.length === 2, "the room messages");
    assertEquals(aSaid, ["server:hi", "ada:to all"]);
    assertEquals(bSaid, ["server:hi", "ada:not to myself", "ada:to all"]);
    await b.leave("lobby");
    t.app.publish("lobby", "said", { from: "server", text: "after" });
    await waitFor(() => aSaid.length === 3, "the last message at ada");
    assertEquals(bSaid.length, 3, "bob left before it");
  } finally {
    await t.stop();
  }
});

test("sessions: binary payloads travel as bytes, both ways", async () => {
  const t = await start({
    events: {
      blob: (s, { name, bytes }) => s.emit("blob", { name: `${name}!`, bytes: bytes.reverse() }),
    },
  });
  try {
    const c = t.client();
    let got: { name: string; bytes: Uint8Array } | undefined;
    c.on("blob", (m) => void (got = m));
    c.emit("blob", { name: "x", bytes: new Uint8Array([1, 2, 3, 255]) });
    await waitFor(() => got !== undefined, "the blob back");
    assertEquals(got!.name, "x!");
    assertInstanceOf(got!.bytes, Uint8Array);
    assertEquals([...got!.bytes], [255, 3, 2, 1]);
  } finally {
    await t.stop();
  }
});

test("sessions: plain WebSocket clients get the plain hooks, or 426 without them", async () => {
  const t = await start();
  try {
    let refused = false;
    try {
      await TestClient.connect(t.server.url);
    } catch {
      refused = true;
    }
    assert(refused, "a plain client is refused when there are no plain hooks");
  } finally {
    await t.stop();
  }
  const t2 = await start({ plain: { message: (peer, m) => void peer.send(`plain:${m}`) } });
  try {
    const plain = await TestClient.connect(t2.server.url);
    plain.send("hi");
    assertEquals(await plain.next(), "plain:hi");
    const s = t2.client();
    assertEquals(await s.request("add", { a: 1, b: 1 }), 2);
    await plain.close();
  } finally {
    await t2.stop();
  }
});

test(
  "sessions: a misspelled event or a wrong payload is a compile error on both ends",
  async () => {
    // Bun cannot type-check; both runtimes ask Deno, the project's type checker.
    const file = new URL("./fixtures/session_types_bad.ts", import.meta.url).pathname;
    // --no-config: the workspace excludes this file from its own type check.
    const child = spawn(runtimeBin("deno"), ["check", "--no-config", "--quiet", file]);
    const code = await within(child.exited, "deno check", 60_000);
    assert(code !== 0, "the misuse file must not type-check");
    // deno-lint-ignore no-control-regex -- strips the colours of Deno's report
    const out = child.lines.join("\n").replace(/\x1b\[[0-9;]*m/g, "");
    const errors = out.match(/TS\d+ \[ERROR\]/g) ?? [];
    assertEquals(errors.length, 8, `expected the 8 misuses to fail:\n${out}`);
    for (let n = 1; n <= 8; n++) assertMatch(out, new RegExp(`BAD-${n}`), `BAD-${n} is an error`);
  },
  { timeout: 90_000 },
);

/** The bytes of a base64url id. */
function idBytes(id: string): Uint8Array {
  const b64 = id.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0));
}

test(`sessions on ${runtime}: session ids are 128 random bits, not a counter or a narrow draw`, async () => {
  const t = await start();
  const count = 96;
  const welcomes: { sid: string; pid: string }[] = [];
  try {
    for (let batch = 0; batch < count / 16; batch++) {
      welcomes.push(
        ...await Promise.all(Array.from({ length: 16 }, async (_, i) => {
          const [raw, welcome] = await helloSession(`${t.server.url}?user=u${batch}x${i}`);
          await raw.close();
          return welcome;
        })),
      );
    }
  } finally {
    await t.stop();
  }
  const sids = welcomes.map((w) => w.sid);
  for (const sid of sids) assertMatch(sid, /^[A-Za-z0-9_-]{22,}$/, "base64url, 128 bits or more");
  assertEquals(new Set(sids).size, count, "no two session ids alike");
  assertEquals(new Set(welcomes.map((w) => w.pid)).size, count, "no two public ids alike");
  // No common prefix: 5 characters (30 bits) shared by any two of 96 random ids is a chance
  // of 1 in 200 000; a counter or a clock shares most of its characters.
  const sorted = [...sids].sort();
  for (let i = 1; i < count; i++) {
    assert(
      sorted[i]!.slice(0, 5) !== sorted[i - 1]!.slice(0, 5),
      `${sorted[i - 1]} and ${sorted[i]} share a prefix`,
    );
  }
  // Every one of the first 128 bits is set in about half of the ids: 48 of 96, give or take
  // 5; outside 20-76 (5.7 standard deviations) is a chance of 1 in 700 000 over the 128.
  // Bytes drawn from a narrow range, a counter, or 8 random bytes padded out are not.
  const bytes = sids.map(idBytes);
  for (const b of bytes) assert(b.length >= 16, `${b.length} bytes`);
  for (let bit = 0; bit < 128; bit++) {
    const ones = bytes.filter((b) => (b[bit >> 3]! >> (7 - (bit & 7))) & 1).length;
    assertGreater(ones, 20, `bit ${bit} is set in ${ones} of ${count} ids`);
    assertLess(ones, 76, `bit ${bit} is set in ${ones} of ${count} ids`);
  }
});

test("sessions: a connection that never says hello is closed with 1002 after helloTimeout", async () => {
  const helloTimeout = 200;
  const t = await start({ helloTimeout, events: { note: () => {} } });
  try {
    // One that says hello at once, opened first: its deadline passes first too.
    const [polite] = await helloSession(`${t.server.url}?user=polite`);
    const started = Date.now();
    const silent = await TestClient.connect(`${t.server.url}?user=silent`, SUBPROTOCOL);
    const closed = await within(silent.closed, "the silent connection to close", 5_000);
    const after = Date.now() - started;
    assertEquals(closed.code, 1002);
    assertMatch(closed.reason, /^Cannot wait longer than 200 ms for hello/);
    assert(after >= helloTimeout - 5, `closed after ${after} ms, not before ${helloTimeout}`);
    // The polite one is past its own deadline and still served.
    polite.send(JSON.stringify(["e", "note", { n: 1 }]));
    assertEquals(await polite.json<unknown>(), ["k", 1]);
    assertEquals(polite.ws.readyState, WebSocket.OPEN);
    await polite.close();
  } finally {
    await t.stop();
  }
});

test("sessions: stats and shutdown leave nothing behind", async () => {
  let ended = 0;
  const t = await start({ end: () => void ended++ });
  const c = t.client();
  await c.join("room");
  assertEquals(t.app.sessions.size, 1);
  await t.stop();
  assertEquals(ended, 1);
  assertEquals(t.app.sessions.size, 0);
});

test("sessions: a frame resent after a reconnect that was already received is dropped", async () => {
  const handled: number[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const t = await start({
    events: {
      note: async (_s, { n }) => {
        handled.push(n);
        if (n === 1) await held;
      },
    },
  });
  try {
    const [first, welcome] = await helloSession(`${t.server.url}?user=raw`);
    first.send(JSON.stringify(["e", "note", { n: 1 }]));
    await waitFor(() => handled.length === 1, "the first event to be handled");
    await first.close();
    // Received, not yet confirmed: the welcome says 0, and the client sends frame 1 again.
    const [again, resumed] = await helloSession(`${t.server.url}?user=raw`, {
      sid: welcome.sid,
      streams: {},
    });
    assertEquals(resumed.q, 0);
    again.send(JSON.stringify(["e", "note", { n: 1 }]));
    again.send(JSON.stringify(["e", "note", { n: 2 }]));
    release();
    await waitFor(() => handled.length === 2, "the second event");
    const acks = [];
    while (acks.at(-1) !== 2) acks.push((await again.json<[string, number]>())[1]);
    assertEquals(handled, [1, 2]);
    assertEquals(t.app.stats().duplicates, 1);
    // Numbers are the server's to count: a frame that carries its own is not a session frame.
    again.send(JSON.stringify({ t: "e", q: 5, e: "note", d: { n: 5 } }));
    assertEquals((await within(again.closed, "the protocol error")).code, 1002);
  } finally {
    await t.stop();
  }
});
