// Reconnects that lose nothing: 10 000 messages each way across 20 cuts of the TCP link (the
// client's resent to a server that had received some), a disconnect longer than the window
// (recovered: false on both sides, never a silent gap), history that aged out, a session id
// presented by another identity, and the order of events on a reconnect.

import {
  assert,
  assertEquals,
  assertGreater,
  assertLessOrEqual,
  assertNotEquals,
} from "@std/assert";
import { serve } from "@wskit/wskit";
import { SessionClient } from "@wskit/wskit/session-client";
import { MemoryStore, type SessionOptions } from "@wskit/wskit/session";
import { test } from "./_support/harness.ts";
import { startProxy } from "./_support/proxy.ts";
import { waitFor, within } from "./_support/wait.ts";
import { helloSession } from "./_support/ws.ts";
import { ENTRY_COST } from "../src/session/memory_store.ts";
import { type TestProtocol, type UserData, userSessions } from "./fixtures/session_protocol.ts";

async function start(options: SessionOptions<TestProtocol, UserData> = {}) {
  const app = userSessions({
    error: (_s, e) => console.error("session error", e),
    ...options,
  });
  const server = await serve(app.hooks, { port: 0 });
  const proxy = startProxy(server.port);
  return {
    app,
    server,
    proxy,
    client(user = "ada") {
      return new SessionClient<TestProtocol>(`ws://127.0.0.1:${proxy.port}/?user=${user}`, {
        minDelay: 5,
        maxDelay: 50,
        minUptime: 0,
        heartbeat: false,
      });
    },
    async stop(...clients: SessionClient<TestProtocol>[]) {
      for (const c of clients) c.close();
      proxy.close();
      await server.close();
    },
  };
}

function opens(c: SessionClient<TestProtocol>) {
  const seen: { resumed: boolean; recovered: boolean }[] = [];
  c.addEventListener("open", (e) => seen.push({ resumed: e.resumed, recovered: e.recovered }));
  return seen;
}

/** `count` distinct random points in [1, n), sorted. */
function cutPoints(count: number, n: number): number[] {
  const points = new Set<number>();
  while (points.size < count) points.add(1 + Math.floor(Math.random() * (n - 1)));
  return [...points].sort((a, b) => a - b);
}

const N = 10_000;
const CUTS = 20;

test(
  `sessions: ${N} room messages across ${CUTS} cuts of the link arrive exactly once, in order`,
  async () => {
    const t = await start();
    const c = t.client();
    const got: number[] = [];
    c.on("tick", ({ n }) => void got.push(n));
    const seen = opens(c);
    try {
      await c.join("feed");
      const cuts = cutPoints(CUTS, N);
      let next = 0;
      for (let n = 0; n < N; n++) {
        t.app.publish("feed", "tick", { n });
        if (n === cuts[next]) {
          // Each cut hits a live session: wait for the reconnect after the previous one.
          const opened = ++next;
          await waitFor(() => seen.length === opened, "the session to be back", 10_000);
          t.proxy.cut();
        }
        // A publisher that yields now and then, as a real one does.
        if (n % 100 === 99) await new Promise((r) => setTimeout(r, 1));
      }
      await waitFor(() => got.length >= N, `${N} messages at the client`, 30_000);
      assertEquals(got.length, N, "no duplicates");
      assert(got.every((n, i) => n === i), "exactly 0..9999 in order");
      await waitFor(() => seen.length === 1 + CUTS, "a reconnect after every cut", 10_000);
      assert(seen.slice(1).every((o) => o.resumed && o.recovered), JSON.stringify(seen));
      const stats = t.app.stats();
      assertEquals([stats.resumed, stats.recovered], [CUTS, CUTS]);
      console.log(`room: ${stats.replayed} frames replayed across ${CUTS} cuts`);
      assert(stats.replayed > 0, "the cuts lost frames in flight, and the replay filled the gaps");
    } finally {
      await t.stop(c);
    }
  },
  { timeout: 60_000 },
);

test(
  `sessions: ${N} client events across ${CUTS} cuts, frames received but not yet handled resent: each handled once, in order`,
  async () => {
    const handled: number[] = [];
    const cuts = new Set(cutPoints(CUTS, N));
    let opened = 0;
    const t = await start({
      events: {
        async note(_s, { n }) {
          handled.push(n);
          if (!cuts.has(n)) return;
          // Cut, and stay busy until the client is back: the frames behind this one were
          // received and not handled when the welcome went out, so the client sends them
          // again (the welcome counts what was handled), and the server must drop them.
          const before = opened;
          t.proxy.cut();
          await waitFor(() => opened > before, "the client to be back", 10_000);
        },
      },
    });
    const c = t.client();
    const seen = opens(c);
    c.addEventListener("open", () => void opened++);
    // Count the event frames that go out: past N, they are resends.
    let sent = 0;
    const send = c.socket.send.bind(c.socket);
    c.socket.send = (data) => {
      if (typeof data === "string" && data.startsWith(`["e"`)) sent++;
      return send(data);
    };
    try {
      await within(new Promise((r) => c.addEventListener("open", r, { once: true })), "open");
      let next = 0;
      for (let n = 0; n < N; n++) {
        if (cuts.has(n)) {
          // Each cut hits a live session: wait for the reconnect after the previous one.
          const opened = ++next;
          await waitFor(() => seen.length === opened, "the session to be back", 10_000);
        }
        assertNotEquals(c.emit("note", { n }), "dropped");
        if (n % 100 === 99) {
          await new Promise((r) => setTimeout(r, 1));
          // Stay well inside the pending bound while the link is down.
          await waitFor(() => c.pending < 5_000, "the pending messages to drain", 20_000);
        }
      }
      await waitFor(() => handled.length >= N && c.pending === 0, `${N} events handled`, 30_000);
      assertEquals(handled.length, N, "each handled once");
      assert(handled.every((n, i) => n === i), "in order");
      await waitFor(() => seen.length === 1 + CUTS, "a reconnect after every cut", 10_000);
      const duplicates = t.app.stats().duplicates;
      const resent = sent - N;
      console.log(
        `events: ${resent} frames sent again after ${CUTS} cuts, ` +
          `${duplicates} of them received before and dropped by the server`,
      );
      assertGreater(duplicates, 0, "frames the server had received came again");
      assertLessOrEqual(duplicates, resent, "only those");
    } finally {
      await t.stop(c);
    }
  },
  { timeout: 60_000 },
);

test("sessions: rooms named like Object.prototype's members resume like any other", async () => {
  const t = await start();
  const c = t.client();
  const rooms = ["__proto__", "constructor", "toString"];
  const got: number[] = [];
  c.on("tick", ({ n }) => void got.push(n));
  const seen = opens(c);
  try {
    for (const room of rooms) await c.join(room);
    rooms.forEach((room, i) => t.app.publish(room, "tick", { n: i }));
    await waitFor(() => got.length === 3, "a message in each room");
    t.proxy.cut();
    // Published while the link is down: only the resume positions of these rooms bring them.
    rooms.forEach((room, i) => t.app.publish(room, "tick", { n: 3 + i }));
    await waitFor(() => seen.length === 2, "the session to be back", 10_000);
    await waitFor(() => got.length >= 6, "the messages sent while away", 10_000);
    assertEquals(got.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], "each once");
    assertEquals(seen[1], { resumed: true, recovered: true });
  } finally {
    await t.stop(c);
  }
});

test("MemoryStore: an entry older than maxAge is not replayed; a younger one after it is", () => {
  let now = 1_000_000;
  const store = new MemoryStore({ maxAge: 1000 }, () => now);
  const [epoch] = store.position("r:x");
  for (let i = 1; i <= 3; i++) store.append("r:x", `{"o":`, "}");
  assertEquals(store.since("r:x", [epoch, 1]), ['{"o":2}', '{"o":3}']);
  now += 1000;
  assertEquals(store.since("r:x", [epoch, 1]), ['{"o":2}', '{"o":3}'], "maxAge old: still kept");
  now += 1;
  assertEquals(store.since("r:x", [epoch, 1]), null, "older than maxAge: not recoverable");
  assertEquals(store.since("r:x", [epoch, 3]), [], "nothing missed: nothing to replay");
  store.append("r:x", `{"o":`, "}");
  assertEquals(store.since("r:x", [epoch, 3]), ['{"o":4}']);
  assertEquals(store.since("r:x", [epoch, 2]), null);
});

test("MemoryStore: an entry counts its text and ENTRY_COST, so tiny frames cannot outgrow maxBytes", () => {
  // Ten entries of 3 characters fit; the text alone would let 400 in.
  const store = new MemoryStore({ maxBytes: 10 * (ENTRY_COST + 3) });
  const [epoch] = store.position("r:x");
  for (let i = 0; i < 400; i++) store.append("r:x", "", ""); // "391" to "400" stay
  assertEquals(store.bytes, 10 * (ENTRY_COST + 3));
  assertEquals(store.since("r:x", [epoch, 390])?.length, 10);
  assertEquals(store.since("r:x", [epoch, 389]), null, "the eleventh from the end is gone");
});

test("MemoryStore: since() replays from the oldest entry kept, and not one before it", () => {
  const store = new MemoryStore({ maxCount: 3 });
  const [epoch] = store.position("r:x");
  for (let i = 1; i <= 5; i++) store.append("r:x", `{"o":`, "}");
  assertEquals(store.since("r:x", [epoch, 2]), ['{"o":3}', '{"o":4}', '{"o":5}'], "3 is kept");
  assertEquals(store.since("r:x", [epoch, 1]), null, "2 was evicted: a gap, not a replay");
  assertEquals(store.since("r:x", [epoch, 0]), null);
  assertEquals(store.since("r:x", [epoch, 5]), []);
  assertEquals(store.since("r:x", [epoch, 6]), null, "a position from the future");
  assertEquals(store.since("r:x", [epoch, -1]), null);
  assertEquals(store.since("r:x", ["another epoch", 4]), null);
});

test(
  "sessions: a disconnect longer than the window: recovered false on both sides, a resync event",
  async () => {
    const connects: { resumed: boolean; recovered: boolean }[] = [];
    const ends: string[] = [];
    const t = await start({
      window: { maxAge: 300 },
      connect: (_s, info) => void connects.push(info),
      end: (s, reason) => void ends.push(`${s.data.user}:${reason}`),
    });
    const c = t.client();
    const resyncs: string[] = [];
    c.addEventListener("resync", (e) => resyncs.push(e.reason));
    const got: number[] = [];
    c.on("tick", ({ n }) => void got.push(n));
    const seen = opens(c);
    try {
      await c.join("feed");
      t.app.publish("feed", "tick", { n: 1 });
      await waitFor(() => got.length === 1, "the first tick");
      t.proxy.down(true);
      t.proxy.cut();
      t.app.publish("feed", "tick", { n: 2 }); // published while the client is away: lost to it
      await waitFor(() => ends.length === 1, "the session to end with its window", 5_000);
      assertEquals(ends, ["ada:expired"]);
      t.proxy.down(false);
      await waitFor(() => seen.length === 2, "the new session", 5_000);
      assertEquals(seen[1], { resumed: false, recovered: false });
      assertEquals(connects.at(-1), { resumed: false, recovered: false });
      assertEquals(resyncs, ["new-session"], "the application is told, never a silent gap");
      // The client is back in its room without the application doing anything.
      await waitFor(
        () => t.app.sessions.size === 1 && [...t.app.sessions.values()][0]!.rooms.has("feed"),
        "the rejoin",
      );
      t.app.publish("feed", "tick", { n: 3 });
      await waitFor(() => got.length === 2, "the tick after the rejoin");
      assertEquals(got, [1, 3]);
    } finally {
      await t.stop(c);
    }
  },
  { timeout: 20_000 },
);

test("sessions: history evicted while away: resumed, but recovered false and a resync event", async () => {
  const t = await start({ window: { maxCount: 5 } });
  const c = t.client();
  const resyncs: string[] = [];
  c.addEventListener("resync", (e) => resyncs.push(e.reason));
  const seen = opens(c);
  try {
    await c.join("feed");
    t.proxy.down(true);
    t.proxy.cut();
    await waitFor(() => [...t.app.sessions.values()][0]?.connected === false, "the disconnect");
    for (let n = 0; n < 20; n++) t.app.publish("feed", "tick", { n }); // more than the log keeps
    t.proxy.down(false);
    await waitFor(() => seen.length === 2, "the reconnect", 5_000);
    assertEquals(seen[1], { resumed: true, recovered: false });
    assertEquals(resyncs, ["not-recovered"]);
  } finally {
    await t.stop(c);
  }
});

test("sessions: a session id presented by another identity resumes nothing", async () => {
  const t = await start();
  const ada = t.client("ada");
  try {
    await within(new Promise((r) => ada.addEventListener("open", r, { once: true })), "open");
    // Learn ada's secret the way an attacker might have: from a raw connection of ada's own.
    const [raw, adas] = await helloSession(`${t.server.url}?user=ada`);
    await raw.close();
    const [eve, welcome] = await helloSession(`${t.server.url}?user=eve`, {
      sid: adas.sid,
      streams: {},
    });
    assertNotEquals(welcome.sid, adas.sid, "eve gets a session of her own");
    assertEquals(welcome.recovered, false);
    const owner = [...t.app.sessions.values()].find((s) => s.data.user === "eve")!;
    assertEquals(owner.identity, "eve");
    assertEquals(ada.readyState, 1, "ada's own session is untouched");
    await eve.close();
  } finally {
    await t.stop(ada);
  }
});

test("sessions: on a reconnect, the replay comes before open, and queued messages after it", async () => {
  const serverLog: string[] = [];
  const t = await start({
    connect: (_s, { resumed }) => void serverLog.push(resumed ? "connect:resumed" : "connect:new"),
    events: { note: (_s, { n }) => void serverLog.push(`note:${n}`) },
  });
  const c = t.client();
  const clientLog: string[] = [];
  c.on("tick", ({ n }) => void clientLog.push(`tick:${n}`));
  c.addEventListener("open", (e) => clientLog.push(`open:${e.resumed}`));
  try {
    await waitFor(() => clientLog.length === 1, "the first open");
    t.proxy.down(true);
    t.proxy.cut();
    await waitFor(() => [...t.app.sessions.values()][0]?.connected === false, "the disconnect");
    const session = [...t.app.sessions.values()][0]!;
    session.emit("tick", { n: 1 });
    session.emit("tick", { n: 2 });
    assertEquals(c.emit("note", { n: 1 }), "queued");
    t.proxy.down(false);
    await waitFor(() => serverLog.includes("note:1"), "the queued note at the server", 5_000);
    assertEquals(clientLog, ["open:false", "tick:1", "tick:2", "open:true"]);
    assertEquals(serverLog, ["connect:new", "connect:resumed", "note:1"]);
  } finally {
    await t.stop(c);
  }
});
