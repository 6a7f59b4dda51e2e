// Coming from partysocket or reconnecting-websocket: their option names are refused with
// wskit's names, contradictory delays clamp as their delay does, and `reconnect()` starts a
// closed client again, with or without a close code (docs/client.md, "Coming from ...").

import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import type { CloseDetails, Hooks } from "@wskit/wskit";
import {
  backoffDelay,
  ReconnectingWebSocket,
  type ReconnectingWebSocketOptions,
} from "@wskit/wskit/client";
import { connect, shut } from "./_support/client.ts";
import { test } from "./_support/harness.ts";
import { withServer } from "./_support/serve.ts";
import { waitFor } from "./_support/wait.ts";

const echo: Hooks = { message: (peer, m) => void peer.send(m) };

test("partysocket's option names are refused with a message that names wskit's", () => {
  const theirs: [string, unknown, string][] = [
    ["minReconnectionDelay", 500, "minDelay"],
    ["maxReconnectionDelay", 10_000, "maxDelay"],
    ["reconnectionDelayGrowFactor", 1.3, "factor"],
    ["connectionTimeout", 4000, "connectTimeout"],
    ["maxEnqueuedMessages", 100, "maxQueued"],
    ["shouldReconnectOnClose", () => true, "shouldReconnect"],
    ["startClosed", true, "reconnect()"],
    ["debug", true, "events"],
    ["WebSocket", class {}, "runtime's own WebSocket"],
  ];
  for (const [name, value, ours] of theirs) {
    const options = { [name]: value } as ReconnectingWebSocketOptions;
    const error = assertThrows(
      () => new ReconnectingWebSocket("ws://127.0.0.1:9/", undefined, options),
      TypeError,
      `Cannot configure ${name}: `,
    );
    assertMatch(error.message, new RegExp(`partysocket's.*${ours.replace(/[()]/g, "\\$&")}`));
  }
  // Left out or undefined (a spread of a partial config) is no reason to refuse.
  const client = new ReconnectingWebSocket("ws://127.0.0.1:9/", undefined, {
    minReconnectionDelay: undefined,
    environment: null,
  } as ReconnectingWebSocketOptions);
  client.close();
});

test("contradictory delays clamp: a bound that was set wins over a default, maxDelay over minDelay", () => {
  const top = () => 1 - Number.EPSILON;
  // maxDelay 500 under the default minDelay (1000): every wait is 500 ms.
  for (const attempt of [1, 2, 9]) {
    assertEquals(backoffDelay(attempt, { maxDelay: 500 }, () => 0), 500);
    assertEquals(backoffDelay(attempt, { maxDelay: 500 }, top), 500);
  }
  // minDelay one minute over the default maxDelay (30 s): every wait is a minute.
  assertEquals(backoffDelay(1, { minDelay: 60_000 }, () => 0), 60_000);
  assertEquals(backoffDelay(5, { minDelay: 60_000 }, top), 60_000);
  // Both set the wrong way round: maxDelay wins, as partysocket's delay never exceeds it.
  assertEquals(backoffDelay(1, { minDelay: 2000, maxDelay: 1000 }, () => 0), 1000);
  assertEquals(backoffDelay(3, { minDelay: 2000, maxDelay: 1000 }, top), 1000);
  // And the client takes them.
  new ReconnectingWebSocket("ws://127.0.0.1:9/", undefined, {
    minDelay: 2000,
    maxDelay: 1000,
    environment: null,
  }).close();
});

test("reconnect() starts a client closed by close() again, and follows the environment again", async () => {
  await withServer(echo, async (server) => {
    const environment = new EventTarget();
    const [client, rec] = connect(server.url, { environment });
    await rec.next("open", 1);
    await shut(client, rec);
    client.reconnect();
    assertEquals(client.readyState, client.CONNECTING);
    await rec.next("open", 2);
    assertEquals(rec.of("connecting").map((e) => e.attempt), [0, 0], "counted from 0 again");
    client.send("again");
    assertEquals(await rec.messagesAtLeast(1), ["again"]);
    // close() stopped following the environment; the new run follows it.
    environment.dispatchEvent(new Event("offline"));
    assertEquals((await rec.next("close", 2)).reason, "offline");
    await rec.next("open", 3);
    // During the closing handshake, too: that close is the last of its run.
    client.close(1000, "bye");
    assertEquals(client.readyState, client.CLOSING);
    client.reconnect();
    await rec.next("open", 4);
    await shut(client, rec);
  });
});

test("reconnect() from a giveup listener starts again; what was queued waits for the new run", async () => {
  let upgrades = 0;
  const hooks: Hooks = {
    upgrade: () => ++upgrades === 1 ? new Response("no", { status: 403 }) : undefined,
    ...echo,
  };
  await withServer(hooks, async (server) => {
    const [client, rec] = connect(server.url);
    assertEquals(client.send("queued before the 403"), "queued");
    client.addEventListener("giveup", () => client.reconnect(), { once: true });
    await rec.next("open", 1);
    assertEquals(await rec.messagesAtLeast(1), ["queued before the 403"]);
    assertEquals(rec.types.split(" ").slice(0, 5), [
      "connecting",
      "error",
      "close",
      "giveup",
      "connecting",
    ]);
    assertEquals(rec.of("drop"), [], "nothing dropped: the client did not stay closed");
    await shut(client, rec);
  });
});

test("reconnect(code, reason) sends that close frame, as partysocket's does, and reconnects", async () => {
  const closes: CloseDetails[] = [];
  await withServer(
    { ...echo, close: (_peer, details) => void closes.push(details) },
    async (server) => {
      const [client, rec] = connect(server.url);
      await rec.next("open", 1);
      client.reconnect(4000, "switching rooms");
      const closed = await rec.next("close", 1);
      assertEquals([closed.code, closed.reason, closed.state], [4000, "switching rooms", 0]);
      await rec.next("open", 2);
      await waitFor(() => closes.length === 1, "the server's close hook");
      assertEquals([closes[0]!.code, closes[0]!.reason], [4000, "switching rooms"]);
      assertThrows(() => client.reconnect(1001), RangeError, "1000 or 3000-4999");
      await shut(client, rec);
    },
  );
});
