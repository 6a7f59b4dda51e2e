// Every resource a client can make the session layer hold has a bound, and each bound is hit
// here: room names and rooms per session, live sessions and their creation rate, replay-log
// bytes across all streams, frames held unconfirmed, and frames sent before the welcome.

import { assert, assertEquals, assertGreaterOrEqual, assertLessOrEqual } from "@std/assert";
import { serve, type Server } from "@wskit/wskit";
import { SessionClient } from "@wskit/wskit/session-client";
import { MemoryStore, type SessionStore } from "@wskit/wskit/session";
import { type SessionOptions, sessions, type SessionServer } from "@wskit/wskit/session";
import type { Position } from "../../src/session/wire.ts";
import { test } from "../_support/harness.ts";
import { waitFor, within } from "../_support/wait.ts";
import { helloSession, TestClient } from "../_support/ws.ts";
import { answer, clientFrame } from "../_support/session_wire.ts";
import { SUBPROTOCOL, VERSION } from "../../src/session/wire.ts";

type Frame = Record<string, unknown>;

async function start(
  options: SessionOptions<never, unknown>,
): Promise<{ app: SessionServer<never, unknown>; server: Server; stop(): Promise<void> }> {
  const app = sessions(options);
  const server = await serve(app.hooks, { port: 0 });
  return { app, server, stop: () => server.close() };
}

test("sessions: a room name past maxRoomNameBytes, or a room past maxRoomsPerSession, is refused with a code", async () => {
  const t = await start({ limits: { maxRoomNameBytes: 16, maxRoomsPerSession: 3 } });
  try {
    const [raw] = await helloSession(t.server.url);
    raw.send(clientFrame({ t: "j", q: 1, r: "é".repeat(9) })); // 18 bytes, 9 characters
    assertEquals(((await answer(raw, 1)).err as Frame).code, "bad_room");
    raw.send(clientFrame({ t: "j", q: 2, r: "x".repeat(16) }));
    assertEquals((await answer(raw, 2)).err, undefined, "16 bytes pass");
    for (let q = 3; q <= 4; q++) {
      raw.send(clientFrame({ t: "j", q, r: `room${q}` }));
      assertEquals((await answer(raw, q)).err, undefined);
    }
    raw.send(clientFrame({ t: "j", q: 5, r: "one too many" }));
    assertEquals(((await answer(raw, 5)).err as Frame).code, "too_many_rooms");
    raw.send(clientFrame({ t: "j", q: 6, r: "room3" }));
    assertEquals((await answer(raw, 6)).err, undefined, "a room it is in already is no new one");
    const session = [...t.app.sessions.values()][0]!;
    assertEquals(session.rooms.size, 3);
    await raw.close();
  } finally {
    await t.stop();
  }
});

test("sessions: past maxSessions the oldest disconnected session makes room; with all connected, 1013", async () => {
  const t = await start({ limits: { maxSessions: 3 } });
  const open: TestClient[] = [];
  try {
    const sids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [raw, welcome] = await helloSession(t.server.url);
      sids.push(welcome.sid);
      await raw.close(); // hello, then gone: the session waits for its client
    }
    await waitFor(() => t.app.stats().connected === 0, "three waiting sessions");
    const [fourth] = await helloSession(t.server.url);
    open.push(fourth);
    assertEquals(t.app.stats().sessions, 3);
    assertEquals(t.app.stats().evicted, 1);
    // The oldest is gone: its client comes back to a new session.
    const [back, welcome] = await helloSession(t.server.url, { sid: sids[0], streams: {} });
    open.push(back);
    assert(welcome.sid !== sids[0], "the evicted session is not resumed");
    const [third] = await helloSession(t.server.url);
    open.push(third);
    assertEquals(t.app.stats().connected, 3);
    const refused = await TestClient.connect(t.server.url, SUBPROTOCOL);
    refused.send(JSON.stringify({ t: "hello", v: VERSION }));
    const closed = await refused.closed;
    assertEquals(closed.code, 1013);
    assert(closed.reason.includes("maximum of 3"), closed.reason);
    assertEquals(t.app.stats().sessions, 3);
  } finally {
    for (const c of open) await c.close();
    await t.stop();
  }
});

test("sessions: past maxSessionsPerSecond a new session is refused with 1013, which the client retries", async () => {
  const t = await start({ limits: { maxSessionsPerSecond: 5 } });
  const clients: TestClient[] = [];
  try {
    const closes: Promise<CloseEvent>[] = [];
    for (let i = 0; i < 12; i++) clients.push(await TestClient.connect(t.server.url, SUBPROTOCOL));
    // Every hello at once, however long the connections took to open.
    for (const raw of clients) {
      raw.send(JSON.stringify({ t: "hello", v: VERSION }));
      closes.push(raw.closed);
    }
    // Every client either welcomed or closed.
    await waitFor(
      () => clients.every((c) => c.messages.length > 0 || c.ws.readyState === WebSocket.CLOSED),
      "every hello answered",
    );
    assertLessOrEqual(t.app.stats().sessions, 6, "a burst of one second's worth, give or take");
    assertGreaterOrEqual(t.app.stats().refused, 6);
    const refused = (await Promise.all(
      closes.filter((_, i) => clients[i]!.messages.length === 0)
        .map((c) => within(c, "a refusal")),
    )).map((e) => e.code);
    assertEquals(refused.length, t.app.stats().refused);
    assert(refused.every((code) => code === 1013), String(refused));
    // A SessionClient that is refused comes back with backoff, and gets in.
    const late = new SessionClient(t.server.url, { minDelay: 100, maxDelay: 400 });
    await waitFor(() => late.readyState === 1, "the client in after retrying", 10_000);
    late.close();
  } finally {
    for (const c of clients) await c.close();
    await t.stop();
  }
});

test("sessions: past maxTotalBytes the oldest entries of any stream go; a client that needs them resyncs", async () => {
  const store = new MemoryStore({ maxTotalBytes: 8192 });
  const t = await start({ store, window: { maxAge: 60_000 } });
  const client = new SessionClient<never>(t.server.url, { minDelay: 20, maxDelay: 50 });
  try {
    const seen: unknown[] = [];
    (client as SessionClient).on("m", (d) => void seen.push(d));
    const resyncs: string[] = [];
    client.addEventListener("resync", (e) => void resyncs.push(e.reason));
    await (client as SessionClient).join("a");
    t.app.publish("a", "m" as never, 1 as never);
    await waitFor(() => seen.length === 1, "the first message");
    const session = [...t.app.sessions.values()][0]!;
    session.peer!.terminate();
    await waitFor(() => !session.connected, "the client cut off");
    t.app.publish("a", "m" as never, 2 as never); // what the client will need
    for (let i = 0; i < 200; i++) {
      t.app.publish(`b${i % 7}`, "m" as never, "x".repeat(100) as never);
    }
    assertLessOrEqual(store.bytes, 8192);
    await waitFor(() => resyncs.length > 0, "a resync");
    assertEquals(resyncs, ["not-recovered"]);
    assertEquals(seen, [1], "no silent gap: the lost message is declared, not skipped");
  } finally {
    client.close();
    await t.stop();
  }
});

test("sessions: a client holding more than maxUnconfirmed frames unconfirmed is closed with 1008", async () => {
  const t = await start({
    limits: { maxUnconfirmed: 4 },
    events: { stall: () => new Promise(() => {}) } as never,
  });
  try {
    const [raw] = await helloSession(t.server.url);
    for (let q = 1; q <= 6; q++) raw.send(clientFrame({ t: "e", q, e: "stall" }));
    const closed = await within(raw.closed, "the close");
    assertEquals(closed.code, 1008);
    assert(closed.reason.startsWith("Cannot hold more unconfirmed frames"), closed.reason);
  } finally {
    await t.stop();
  }
});

test("sessions: frames sent before the welcome are bounded; past it the connection is closed with 1008", async () => {
  const inner = new MemoryStore();
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  // A store that takes its time to answer the hello's reads, as a remote one may.
  const slow: SessionStore = {
    append: (s, p, x, k) => inner.append(s, p, x, k),
    position: async (s) => (await gate, inner.position(s) as Position),
    since: (s, f) => inner.since(s, f),
    drop: (s) => inner.drop(s),
    close: () => inner.close(),
  };
  const t = await start({ store: slow });
  try {
    const raw = await TestClient.connect(t.server.url, SUBPROTOCOL);
    raw.send(JSON.stringify({ t: "hello", v: VERSION }));
    for (let q = 1; q <= 100; q++) raw.send(clientFrame({ t: "e", q, e: "x" }));
    const closed = await within(raw.closed, "the close");
    assertEquals(closed.code, 1008);
  } finally {
    release();
    await t.stop();
  }
});
