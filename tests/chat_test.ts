// The chat room's behaviour, in-process: welcome, join, leave, rename, every message to
// every client (the sender included), and refused input.

import { assertEquals } from "@std/assert";
import { CHAT_RATE_LIMIT, chatRoom, MAX_TEXT } from "../examples/chat_room.ts";
import { serve } from "../mod.ts";
import { test } from "./_harness.ts";
import { TestClient } from "./_ws.ts";

test("chat: a newcomer alone gets a welcome; the others hear the join, then the leave", async () => {
  const server = await serve(chatRoom(), { port: 0 });
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
  const server = await serve(chatRoom(), { port: 0 });
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
  const server = await serve(chatRoom(), { port: 0 });
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
  const server = await serve(chatRoom(), { port: 0, rateLimit: CHAT_RATE_LIMIT });
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
