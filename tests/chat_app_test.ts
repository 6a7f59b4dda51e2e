// The chat app's room (examples/chat_app/room.ts), in-process: welcome, join, leave, rename,
// every message to every client (the sender included), and refused input.

import { assertEquals, assertRejects } from "@std/assert";
import { CHAT_RATE_LIMIT, chatApp, MAX_TEXT, ROOM } from "../examples/chat_app/room.ts";
import type { ChatProtocol } from "../examples/chat_app/protocol.ts";
import { RemoteError, serve, SessionClient } from "@wskit/wskit";
import { startProxy } from "./_support/proxy.ts";
import { waitFor } from "./_support/wait.ts";
import { test } from "./_support/harness.ts";
import { TestClient } from "./_support/ws.ts";

test("chat: a newcomer alone gets a welcome; the others hear the join, then the leave", async () => {
  const server = await serve(chatApp().hooks, { port: 0 });
  try {
    const a = await TestClient.connect(server.url);
    assertEquals(await a.json(), { type: "welcome", name: "guest-1", online: 1 });
    const b = await TestClient.connect(server.url);
    assertEquals(await b.json(), { type: "welcome", name: "guest-2", online: 2 });
    assertEquals(await a.json(), { type: "join", name: "guest-2", online: 2 });
    const c = await TestClient.connect(server.url);
    assertEquals(await c.json(), { type: "welcome", name: "guest-3", online: 3 });
    assertEquals(await a.json(), { type: "join", name: "guest-3", online: 3 });
    assertEquals(await b.json(), { type: "join", name: "guest-3", online: 3 });
    await b.close();
    assertEquals(await a.json(), { type: "leave", name: "guest-2", online: 2 });
    assertEquals(await c.json(), { type: "leave", name: "guest-2", online: 2 });
    assertEquals(b.messages.length, 2, "b saw only its welcome and guest-3's join");
    await a.close();
    await c.close();
  } finally {
    await server.close();
  }
});

test("chat: every message reaches every client, the sender included, in order", async () => {
  const server = await serve(chatApp().hooks, { port: 0 });
  try {
    const clients = [];
    for (let i = 0; i < 4; i++) {
      const c = await TestClient.connect(server.url);
      await c.json();
      for (const earlier of clients) await earlier.json();
      clients.push(c);
    }
    for (const [i, c] of clients.entries()) {
      c.send(i % 2 ? `plain ${i}` : JSON.stringify({ type: "message", text: `json ${i}` }));
    }
    for (const c of clients) {
      const got = [];
      for (let i = 0; i < 4; i++) got.push(await c.json());
      assertEquals(
        got.map((m) => m.text).sort(),
        ["json 0", "plain 1", "json 2", "plain 3"].sort(),
      );
    }
    clients[0]!.send(JSON.stringify({ type: "name", name: "  ada  " }));
    for (const c of clients) {
      assertEquals(await c.json(), { type: "rename", from: "guest-1", name: "ada" });
    }
    clients[0]!.send("hello");
    assertEquals(await clients[3]!.json(), { type: "message", name: "ada", text: "hello" });
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    await server.close();
  }
});

test("chat: bad input is refused to its sender only, with a reason", async () => {
  const server = await serve(chatApp().hooks, { port: 0 });
  try {
    const a = await TestClient.connect(server.url);
    await a.json();
    const b = await TestClient.connect(server.url);
    await b.json();
    await a.json();
    const bad = [
      new Uint8Array([1]),
      "x".repeat(MAX_TEXT + 1),
      "   ",
      JSON.stringify({ type: "name", name: "" }),
      JSON.stringify({ type: "name", name: "n".repeat(33) }),
      JSON.stringify({ type: "dance" }),
    ];
    for (const m of bad) {
      a.send(m);
      const reply = await a.json();
      assertEquals(reply.type, "error");
    }
    a.send("{not json");
    assertEquals((await b.json()).text, "{not json", "unparseable JSON is plain text");
    assertEquals(b.messages.length, 2, "b saw its welcome and the one message, no errors");
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

test("chat: a flood past the rate limit is refused to the flooder, who stays connected", async () => {
  const server = await serve(chatApp().hooks, { port: 0, rateLimit: CHAT_RATE_LIMIT });
  try {
    const a = await TestClient.connect(server.url);
    await a.json();
    for (let i = 0; i < 100; i++) a.send(`spam ${i}`);
    const replies = [];
    for (let i = 0; i < 100; i++) replies.push(await a.json());
    const errors = replies.filter((r) => r.type === "error");
    const echoed = replies.filter((r) => r.type === "message");
    assertEquals(errors[0], { type: "error", error: "Slow down: too many messages" });
    assertEquals(echoed.length + errors.length, 100);
    assertEquals(echoed.length < 60, true, `${echoed.length} passed the limit`);
    assertEquals(a.ws.readyState, WebSocket.OPEN);
    await a.close();
  } finally {
    await server.close();
  }
});

function sessionClient(url: string, name = "") {
  const c = new SessionClient<ChatProtocol>(`${url}${name ? `?name=${name}` : ""}`, {
    minDelay: 10,
    maxDelay: 100,
    heartbeat: false,
  });
  const events: string[] = [];
  c.on("welcome", (m) => void events.push(`welcome ${m.name} ${m.online}`));
  c.on("joined", (m) => void events.push(`joined ${m.name} ${m.online}`));
  c.on("left", (m) => void events.push(`left ${m.name} ${m.online}`));
  c.on("renamed", (m) => void events.push(`renamed ${m.from} ${m.name}`));
  c.on(
    "message",
    (m) =>
      void events.push(`message ${m.name}: ${m.text}${m.by === c.id ? ` (own ${m.ref})` : ""}`),
  );
  return { c, events };
}

test("chat: a page (session client) and a plain client share the room, both ways", async () => {
  const server = await serve(chatApp().hooks, { port: 0 });
  const { c, events } = sessionClient(server.url, "ada");
  try {
    await waitFor(() => events.includes("welcome ada 1"), "ada's welcome");
    const plain = await TestClient.connect(server.url);
    assertEquals(await plain.json(), { type: "welcome", name: "guest-1", online: 2 });
    await waitFor(() => events.includes("joined guest-1 2"), "the plain client's join at ada");
    plain.send("hello from plain");
    await waitFor(() => events.includes("message guest-1: hello from plain"), "plain to page");
    assertEquals((await plain.json()).text, "hello from plain", "the plain sender's own copy");
    assertEquals(await c.request("say", { text: "hello from the page", ref: 7 }), null);
    assertEquals(await plain.json(), { type: "message", name: "ada", text: "hello from the page" });
    await waitFor(() => events.includes("message ada: hello from the page (own 7)"), "own copy");
    assertEquals(await c.request("rename", { name: "  Ada L.  " }), { name: "Ada L." });
    assertEquals(await plain.json(), { type: "rename", from: "ada", name: "Ada L." });
    const refused = await assertRejects(() => c.request("say", { text: " ", ref: 8 }), RemoteError);
    assertEquals(refused.code, "empty");
    await plain.close();
    await waitFor(() => events.includes("left guest-1 1"), "the plain client's leave");
  } finally {
    c.close();
    await server.close();
  }
});

test("chat: a page that loses its connection for a few seconds misses no message", async () => {
  const server = await serve(chatApp().hooks, { port: 0 });
  const proxy = startProxy(server.port);
  const { c, events } = sessionClient(`ws://127.0.0.1:${proxy.port}/`, "ada");
  const plain = await TestClient.connect(server.url);
  try {
    await waitFor(() => events.includes("welcome ada 2"), "ada's welcome");
    await plain.json();
    await plain.json(); // ada's join
    proxy.down(true);
    proxy.cut();
    for (let i = 1; i <= 5; i++) plain.send(`while ada is away ${i}`);
    assertEquals(await plain.json(), {
      type: "message",
      name: "guest-1",
      text: "while ada is away 1",
    });
    proxy.down(false);
    await waitFor(() => events.includes("message guest-1: while ada is away 5"), "the replay");
    assertEquals(
      events.filter((e) => e.startsWith("message")),
      [1, 2, 3, 4, 5].map((i) => `message guest-1: while ada is away ${i}`),
    );
    assertEquals(c.recovered, true);
    // A blip is not a departure: the others saw neither a leave nor a second join.
    const seen = plain.messages.map((m) => JSON.parse(m as string).type);
    assertEquals(seen.filter((t) => t === "leave" || t === "join"), ["join"]);
  } finally {
    c.close();
    await plain.close();
    proxy.close();
    await server.close();
  }
});

test("chat: a page may ask to join the chat's own room, and no other", async () => {
  const server = await serve(chatApp().hooks, { port: 0 });
  const { c, events } = sessionClient(server.url, "ada");
  try {
    await waitFor(() => events.includes("welcome ada 1"), "ada's welcome");
    for (const room of ["lobby", "chat/plain", "Chat", "admin", "__proto__"]) {
      const refused = await assertRejects(() => c.join(room), RemoteError, undefined, room);
      assertEquals(refused.code, "forbidden", room);
    }
    await c.join(ROOM);
    assertEquals(await c.request("say", { text: "still here", ref: 1 }), null);
    await waitFor(() => events.includes("message ada: still here (own 1)"), "ada's own message");
  } finally {
    c.close();
    await server.close();
  }
});
