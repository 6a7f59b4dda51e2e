// Presence in one process (memory store, no relay): who is in a room, with joins, leaves and
// updates on every member's live map; no flap across a resumed reconnect; the bounds on
// presence data and members per room; the accept hook; hostile presence frames.

import { assertEquals, assertRejects } from "@std/assert";
import { serve } from "@wskit/wskit";
import { RemoteError } from "@wskit/wskit/protocol";
import { type SessionOptions, sessions } from "@wskit/wskit/session";
import { type PresenceEvent, SessionClient } from "@wskit/wskit/session-client";
import { test } from "./_support/harness.ts";
import { waitFor } from "./_support/wait.ts";
import { helloSession } from "./_support/ws.ts";

type Data = { user: string };

/** A presence server, and clients that record every presence event. */
async function start(options: SessionOptions<never, Data> = {}) {
  const app = sessions<never, Data>({
    upgrade: (request) => ({
      data: { user: new URL(request.url).searchParams.get("user") ?? "?" },
    }),
    presence: true,
    error: () => {},
    ...options,
  });
  const server = await serve(app.hooks, { port: 0 });
  const clients: SessionClient[] = [];
  return {
    app,
    server,
    client(user: string) {
      const c = new SessionClient(`${server.url}?user=${user}`, {
        minDelay: 20,
        maxDelay: 200,
        heartbeat: false,
      });
      const events: string[] = [];
      c.addEventListener("presence", (e: PresenceEvent) => {
        events.push(`${e.change} ${JSON.stringify(e.data)}`);
      });
      clients.push(c);
      return { c, events };
    },
    async stop() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

/** Two clients of `t` in "lobby", showing their names. */
async function adaAndBob(t: Awaited<ReturnType<typeof start>>) {
  const a = t.client("a");
  const b = t.client("b");
  await a.c.join("lobby", { presence: { name: "ada" } });
  await b.c.join("lobby", { presence: { name: "bob" } });
  return { a, b };
}

/** A room's members as a client sees them: data by public id, sorted. */
function seen(c: SessionClient, room: string): string {
  return JSON.stringify([...c.presence(room)].sort());
}

test("presence: every member's map follows joins, updates and leaves; presence(room) lists them", async () => {
  const t = await start();
  try {
    const { a, b } = await adaAndBob(t);
    const both = async () =>
      JSON.stringify((await t.app.presence("lobby")).map((m) => [m.id, m.data]).sort());
    await waitFor(() => a.c.presence("lobby").size === 2, "a sees two members");
    assertEquals(seen(a.c, "lobby"), seen(b.c, "lobby"));
    assertEquals(seen(a.c, "lobby"), await both());
    assertEquals(a.c.presence("lobby").get(b.c.id), { name: "bob" });
    await b.c.setPresence("lobby", { name: "bob", status: "away" });
    await waitFor(() => a.events.includes('update {"name":"bob","status":"away"}'), "the update");
    await b.c.leave("lobby");
    await waitFor(() => a.c.presence("lobby").size === 1, "b's leave at a");
    assertEquals(b.c.presence("lobby").size, 0);
    assertEquals(t.app.stats().presence, 1);
    const c = t.client("c");
    await c.c.join("lobby");
    await waitFor(() => a.c.presence("lobby").get(c.c.id) === null, "a member without data");
    c.c.close(); // the session ends: its member leaves
    await waitFor(() => a.c.presence("lobby").size === 1, "c's leave at a");
    assertEquals(a.events, [
      'join {"name":"ada"}',
      'join {"name":"bob"}',
      'update {"name":"bob","status":"away"}',
      'leave {"name":"bob","status":"away"}',
      "join null",
      "leave null",
    ]);
  } finally {
    await t.stop();
  }
});

test("presence: a client cut and resumed within the window makes no leave or join anywhere", async () => {
  const t = await start();
  try {
    const { a, b } = await adaAndBob(t);
    await waitFor(() => a.c.presence("lobby").size === 2 && b.c.presence("lobby").size === 2, "2");
    const before = [a.events.length, b.events.length];
    let opened = 0;
    b.c.addEventListener("open", (e) => e.resumed && opened++);
    b.c.socket.reconnect("cut");
    await waitFor(() => opened === 1, "b resumed");
    // A change after the resume reaches both: the cut is behind everything checked below.
    await a.c.setPresence("lobby", { name: "ada", n: 1 });
    await waitFor(
      () =>
        b.c.presence("lobby").get(a.c.id) !== undefined &&
        JSON.stringify(b.c.presence("lobby").get(a.c.id)) === '{"name":"ada","n":1}',
      "the update at b",
    );
    assertEquals(a.events.slice(before[0]), ['update {"name":"ada","n":1}']);
    assertEquals(b.events.slice(before[1]), ['update {"name":"ada","n":1}']);
    assertEquals(t.app.stats().presence, 2);
  } finally {
    await t.stop();
  }
});

test("presence: data past maxPresenceBytes and joins past maxMembersPerRoom are refused", async () => {
  const t = await start({ limits: { maxPresenceBytes: 64, maxMembersPerRoom: 2 } });
  try {
    const a = t.client("a");
    const err = await assertRejects(
      () => a.c.join("lobby", { presence: { name: "x".repeat(64) } }),
      RemoteError,
    );
    assertEquals(err.code, "presence_too_large");
    assertEquals(a.c.rooms.size, 0);
    await a.c.join("lobby", { presence: { name: "ada" } });
    const tooBig = await assertRejects(
      () => a.c.setPresence("lobby", { name: "é".repeat(40) }), // 80 bytes of UTF-8
      RemoteError,
    );
    assertEquals(tooBig.code, "presence_too_large");
    const b = t.client("b");
    await b.c.join("lobby");
    const c = t.client("c");
    const full = await assertRejects(() => c.c.join("lobby"), RemoteError);
    assertEquals(full.code, "room_full");
    assertEquals((await t.app.presence("lobby")).length, 2);
    await b.c.leave("lobby");
    await c.c.join("lobby"); // room again
    assertEquals((await t.app.presence("lobby")).length, 2);
  } finally {
    await t.stop();
  }
});

test("presence: the accept hook rewrites or refuses what a client shows", async () => {
  const t = await start({
    presence: {
      accept(session, _room, data) {
        if ((data as { status?: unknown })?.status === "admin") {
          throw new RemoteError("Cannot show that status", { code: "forbidden_status" });
        }
        return { user: session.data.user, status: (data as { status?: unknown })?.status };
      },
    },
  });
  try {
    const a = t.client("ada");
    await a.c.join("lobby", { presence: { user: "root", status: "here" } });
    await waitFor(() => a.c.presence("lobby").size === 1, "a sees itself");
    assertEquals(a.c.presence("lobby").get(a.c.id), { user: "ada", status: "here" });
    const err = await assertRejects(
      () => a.c.setPresence("lobby", { status: "admin" }),
      RemoteError,
    );
    assertEquals(err.code, "forbidden_status");
    assertEquals((await t.app.presence("lobby"))[0]!.data, { user: "ada", status: "here" });
  } finally {
    await t.stop();
  }
});

test("presence: hostile presence frames get error answers or close 1002, never a crash", async () => {
  const errors: unknown[] = [];
  const t = await start({ error: (_s, e) => void errors.push(e) });
  try {
    const [ws] = await helloSession(t.server.url);
    ws.send(`["y","lobby",{"a":1}]`); // not in the room
    const answer = await ws.json<unknown[]>();
    assertEquals(answer[0], "x");
    assertEquals((answer[3] as { code: string }).code, "not_in_room");
    ws.send(`["j","lobby",{"__proto__":{"x":1},"constructor":1}]`);
    const snapshot = await ws.until((m) => typeof m === "string" && m.startsWith(`["s"`));
    assertEquals(JSON.parse(snapshot as string)[2][0][1], {
      constructor: 1,
      ["__proto__"]: { x: 1 },
    });
    ws.send(`["y",7,null]`);
    assertEquals((await ws.closed).code, 1002);
    assertEquals(errors, []);
    assertEquals((await t.app.presence("lobby")).length, 1);
  } finally {
    await t.stop();
  }
});
