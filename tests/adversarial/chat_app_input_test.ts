// The chat app (examples/chat_app/room.ts) against hostile input: request names that are
// properties of every object, payloads of the wrong shape, plain frames of every JSON type.
// Each gets an answer that says what was wrong, nothing reaches the chat's error hook (no
// handler threw), and the chat goes on for everyone.

import { assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { chatApp, MAX_TEXT } from "../../examples/chat_app/room.ts";
import type { ChatProtocol } from "../../examples/chat_app/protocol.ts";
import { RemoteError, serve, SessionClient } from "@wskit/wskit";
import { captureConsole } from "../_support/console.ts";
import { test } from "../_support/harness.ts";
import { deferred, within } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";

/** The same client, with the types taken off: it can send what no typed caller would. */
type Untyped = { request(event: string, payload: unknown): Promise<unknown> };

test("chat: a page's requests named after Object.prototype, or shaped wrong, are refused", async () => {
  await captureConsole(async ({ error: errors }) => {
    const server = await serve(chatApp().hooks, { port: 0 });
    const c = new SessionClient<ChatProtocol>(`${server.url}?name=ada`, { heartbeat: false });
    const untyped = c as unknown as Untyped;
    try {
      const welcome = deferred<void>();
      c.on("welcome", () => welcome.resolve());
      await within(welcome.promise, "ada's welcome");
      for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
        const refused = await assertRejects(() => untyped.request(name, {}), RemoteError);
        assertEquals(refused.code, "unknown_request", name);
      }
      const bad: [string, unknown, string][] = [
        ["say", null, "bad"],
        ["say", 5, "bad"],
        ["say", "hello", "bad"],
        ["say", ["hello"], "bad"],
        ["say", { text: 5 }, "bad"],
        ["say", { text: { toString: "x" } }, "bad"],
        ["say", { text: "x".repeat(MAX_TEXT + 1), ref: 1 }, "too_long"],
        ["say", { text: "\u3000 ", ref: "1" }, "empty"],
        ["rename", null, "bad_name"],
        ["rename", { name: ["ada"] }, "bad_name"],
        ["rename", { name: { length: 3 } }, "bad_name"],
        ["rename", { name: "x".repeat(100_000) }, "bad_name"],
      ];
      for (const [event, payload, code] of bad) {
        const label = `${event} ${JSON.stringify(payload)?.slice(0, 40)}`;
        const refused = await assertRejects(() => untyped.request(event, payload), RemoteError);
        assertEquals(refused.code, code, label);
      }
      // A ref that is not a number is taken as none.
      assertEquals(await untyped.request("say", { text: "hi", ref: { x: 1 } }), null);
      assertEquals(await c.request("rename", { name: "Ada" }), { name: "Ada" });
      assertEquals(errors, [], "no handler threw");
    } finally {
      c.close();
      await server.close();
    }
  });
});

test("chat: a plain client's frames of every JSON type get an error or count as text", async () => {
  await captureConsole(async ({ error: errors }) => {
    const server = await serve(chatApp().hooks, { port: 0 });
    const plain = await TestClient.connect(server.url);
    const other = await TestClient.connect(server.url);
    try {
      await plain.json();
      await other.json();
      await plain.json(); // the other's join
      const refused = [
        `{"type":"name","name":{"a":1}}`,
        `{"type":"name"}`,
        `{"type":"name","name":null}`,
        `{"type":"message","text":["x"]}`,
        `{"type":"message"}`,
        `{"__proto__":{"type":"name","name":"x"}}`,
        `{"type":"constructor"}`,
        `{"type":{"toString":1}}`,
        `{"a":`.repeat(500) + "1" + "}".repeat(500),
        "x".repeat(MAX_TEXT + 1),
      ];
      for (const frame of refused) {
        plain.send(frame);
        const reply = await plain.json();
        assertEquals(reply.type, "error", frame.slice(0, 40));
        assertNotEquals(reply.error, undefined, frame.slice(0, 40));
      }
      // JSON that is not an object, and text that only looks like JSON, are messages.
      for (const frame of ["null", "[1,2]", "42", `"quoted"`, "{".repeat(MAX_TEXT), "{}x"]) {
        plain.send(frame);
        const reply = await other.json();
        assertEquals([reply.type, reply.text], ["message", frame], frame.slice(0, 40));
        await plain.json(); // its own copy
      }
      assertEquals(other.messages.length, 1 + 6, "the other saw its welcome and the six messages");
      assertEquals(errors, [], "no handler threw");
    } finally {
      await plain.close();
      await other.close();
      await server.close();
    }
  });
});
