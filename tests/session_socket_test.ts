// A session client reads its socket's messages before the socket's own listeners, and builds a
// message event only when someone listens: the socket's `message` event must still reach
// every listener the application adds, after the session has handled the frame.

import { assert, assertEquals } from "@std/assert";
import { serve } from "@wskit/wskit";
import { SessionClient } from "@wskit/wskit/session-client";
import { test } from "./_support/harness.ts";
import { waitFor } from "./_support/wait.ts";
import { type TestProtocol, userSessions } from "./fixtures/session_protocol.ts";

/** A session server that answers each `note` with a `tick`, and a client of it. */
async function start(user: string) {
  const app = userSessions({
    events: { note: (s, { n }) => s.emit("tick", { n }) },
    error: () => {},
  });
  const server = await serve(app.hooks, { port: 0 });
  const c = new SessionClient<TestProtocol>(`${server.url}?user=${user}`, { heartbeat: false });
  const ticks: number[] = [];
  c.on("tick", ({ n }) => void ticks.push(n));
  return {
    c,
    ticks,
    async stop() {
      c.close();
      await server.close();
    },
  };
}

test("sessions: the socket's message events reach its listeners, after the session read them", async () => {
  const { c, ticks, stop } = await start("ada");
  try {
    // Per tick frame: how many ticks the session had delivered when the listener saw it.
    const handledFirst: number[] = [];
    const texts: string[] = [];
    c.socket.addEventListener("message", (e) => {
      const text = String(e.data);
      texts.push(text);
      if (text.includes('"tick"')) handledFirst.push(ticks.length);
    });
    let handler = 0;
    c.socket.onmessage = () => void handler++;
    for (let n = 1; n <= 3; n++) c.emit("note", { n });
    await waitFor(() => ticks.length === 3 && handledFirst.length === 3, "three ticks, twice");
    assertEquals(ticks, [1, 2, 3]);
    assertEquals(handledFirst, [1, 2, 3]);
    assert(texts[0]!.startsWith('{"t":"welcome"'), `the welcome first, got ${texts[0]}`);
    assertEquals(handler, texts.length);
  } finally {
    await stop();
  }
});

test("sessions: a message listener added to the socket late sees what arrives from then on", async () => {
  const { c, ticks, stop } = await start("bob");
  try {
    c.emit("note", { n: 1 });
    await waitFor(() => ticks.length === 1, "the first tick");
    const late: string[] = [];
    const listener = (e: MessageEvent) => void late.push(String(e.data));
    c.socket.addEventListener("message", listener);
    c.emit("note", { n: 2 });
    await waitFor(() => late.some((t) => t.includes('"tick"')), "the second tick, at the socket");
    c.socket.removeEventListener("message", listener);
    c.emit("note", { n: 3 });
    await waitFor(() => ticks.length === 3, "the third tick");
    assertEquals(late.filter((t) => t.includes('"tick"')).length, 1);
  } finally {
    await stop();
  }
});
