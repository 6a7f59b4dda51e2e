// The reconnecting client says why an attempt failed before it opened (an HTTP status on the
// upgrade, a subprotocol the runtime refused, a URL that cannot work, nothing listening), on
// its `error`, `close` and `giveup` events, and with the default policy stops on a failure
// that cannot succeed instead of retrying it forever.

import { assert, assertEquals, assertInstanceOf, assertMatch } from "@std/assert";
import { type Hooks, serve } from "@wskit/wskit";
import {
  ClientCloseEvent,
  ConnectError,
  defaultShouldReconnect,
  type GiveUpEvent,
  type ReconnectingWebSocket,
  type ReconnectingWebSocketOptions,
} from "@wskit/wskit/client";
import { connect, type Recorder, shut } from "./_support/client.ts";
import { captureConsole } from "./_support/console.ts";
import { test } from "./_support/harness.ts";
import { flags } from "./_support/runtime_flags.ts";
import { withServer } from "./_support/serve.ts";

/** What a client's `close` and `giveup` events said, beyond what the recorder keeps. */
interface Said {
  closes: ClientCloseEvent[];
  giveups: GiveUpEvent[];
}

/** `connect` that also keeps the `close` and `giveup` events themselves. */
function watched(
  url: Parameters<typeof connect>[0],
  options: ReconnectingWebSocketOptions = {},
  protocols?: Parameters<typeof connect>[2],
): [ReconnectingWebSocket, Recorder, Said] {
  const [client, rec] = connect(url, options, protocols);
  const said: Said = { closes: [], giveups: [] };
  client.addEventListener("close", (e) => said.closes.push(e));
  client.addEventListener("giveup", (e) => said.giveups.push(e));
  return [client, rec, said];
}

/** An upgrade hook that answers the n-th upgrade (from 1) with `answer(n)`. */
function counting(answer: (n: number) => Response | undefined): Hooks & { upgrades(): number } {
  let n = 0;
  return { upgrade: () => answer(++n), upgrades: () => n };
}

const refusal = (status: number) => new Response("no", { status });

test("defaultShouldReconnect() stops on a failure that cannot succeed, whatever the code", () => {
  const error = (retryable: boolean) => ({ retryable });
  assertEquals(defaultShouldReconnect({ code: 1006, error: error(false) }), false);
  assertEquals(defaultShouldReconnect({ code: 1006, error: error(true) }), true);
  assertEquals(defaultShouldReconnect({ code: 1006, error: undefined }), true);
});

test("an upgrade refused with 403: error, close and giveup say so, and the client stops", async () => {
  const hooks = counting(() => refusal(403));
  await withServer(hooks, async (server) => {
    const [client, rec, said] = watched(server.url);
    const giveup = await rec.next("giveup", 1);
    const why = "the server answered the upgrade with HTTP 403";
    assertEquals(rec.types, "connecting error close giveup");
    assertEquals(rec.of("error")[0]!.message, `Cannot connect: ${why}`);
    const closed = rec.of("close")[0]!;
    assertEquals([closed.code, closed.reason, closed.wasClean, closed.state], [
      1006,
      `connect failed: ${why}`,
      false,
      client.CLOSED,
    ]);
    assertEquals([giveup.reason, giveup.attempt], ["policy", 0]);
    const error = said.closes[0]!.error;
    assertInstanceOf(said.closes[0], ClientCloseEvent);
    assertInstanceOf(error, ConnectError);
    assertEquals([error.kind, error.status, error.retryable], ["status", 403, false]);
    assertEquals(error.message, `Cannot connect: ${why}`);
    assertEquals(said.giveups[0]!.error, error);
    assertEquals(said.giveups[0]!.message, `Cannot connect: ${why}`);
    assertEquals(hooks.upgrades(), 1, "one attempt, not a loop");
  });
});

test("503 and 429 answers say so on every close, and the client retries until it opens", async () => {
  const hooks = counting((n) => n === 1 ? refusal(503) : n === 2 ? refusal(429) : undefined);
  await withServer(hooks, async (server) => {
    const [client, rec, said] = watched(server.url);
    await rec.next("open", 1);
    assertEquals(rec.of("close").map((e) => [e.code, e.reason]), [
      [1006, "connect failed: the server answered the upgrade with HTTP 503"],
      [1006, "connect failed: the server answered the upgrade with HTTP 429"],
    ]);
    assertEquals(said.closes.map((e) => [e.error?.status, e.error?.retryable]), [
      [503, true],
      [429, true],
    ]);
    await shut(client, rec);
    assertEquals(said.closes[2]!.error, undefined, "a close after an open has no ConnectError");
  });
});

test("shouldReconnect sees why an attempt failed, and may retry a 403 anyway", async () => {
  const hooks = counting((n) => n === 1 ? refusal(403) : undefined);
  await withServer(hooks, async (server) => {
    const kinds: unknown[] = [];
    const [client, rec] = watched(server.url, {
      shouldReconnect: (e) => {
        kinds.push(e.error?.kind);
        return true;
      },
    });
    await rec.next("open", 1);
    assertEquals(kinds, ["status"]);
    await shut(client, rec);
  });
});

test(
  flags.clientOpensWithoutOfferedProtocol
    ? "a server that chooses none of the offered subprotocols: this runtime's client opens"
    : "a server that chooses none of the offered subprotocols: the client says so and stops",
  async () => {
    // `protocol: ""` chooses none on purpose; the server warns about it, which is not tested here.
    await captureConsole(async () => {
      const upgrades: string[][] = [];
      const hooks: Hooks = {
        upgrade: (_request, { protocols }) => {
          upgrades.push(protocols);
          return { protocol: "" };
        },
      };
      await withServer(hooks, async (server) => {
        const [client, rec, said] = watched(server.url, {}, ["chat.v2", "chat.v1"]);
        if (flags.clientOpensWithoutOfferedProtocol) {
          await rec.next("open", 1);
          assertEquals(client.protocol, "");
          return await shut(client, rec);
        }
        const giveup = await rec.next("giveup", 1);
        assertEquals(rec.types, "connecting error close giveup");
        assertEquals(giveup.reason, "policy");
        const error = said.giveups[0]!.error!;
        assertEquals([error.kind, error.retryable], ["subprotocol", false]);
        assertEquals(
          error.message,
          'Cannot connect: the server chose none of the offered subprotocols ("chat.v2", ' +
            `"chat.v1"), which this runtime's WebSocket refuses`,
        );
        assertMatch(rec.of("close")[0]!.reason!, /^connect failed: the server chose none/);
        assertEquals(upgrades, [["chat.v2", "chat.v1"]], "one attempt, not a loop");
      });
    });
  },
);

test("a URL provider's URL that no WebSocket takes: the client says why and stops", async () => {
  for (
    const [given, why] of [
      ["ftp://127.0.0.1/", `"ftp://127.0.0.1/" is not a ws:, wss:, http: or https: URL`],
      ["ws://[nope/", `"ws://[nope/" is not a valid URL`],
    ]
  ) {
    let calls = 0;
    const [client, rec, said] = watched(() => {
      calls++;
      return given!;
    });
    const giveup = await rec.next("giveup", 1);
    assertEquals([giveup.reason, calls], ["policy", 1]);
    assertEquals(rec.types, "connecting error close giveup");
    assertEquals(rec.of("close")[0]!.reason, `connect failed: ${why}`);
    assertEquals(said.giveups[0]!.message, `Cannot connect: ${why}`);
    assertEquals([said.giveups[0]!.error?.kind, client.readyState], ["url", client.CLOSED]);
  }
});

test("subprotocols the runtime's WebSocket refuses (a duplicate): the client says why and stops", async () => {
  const [client, rec, said] = watched("ws://127.0.0.1:9/", {}, () => ["chat", "chat"]);
  const giveup = await rec.next("giveup", 1);
  assertEquals(giveup.reason, "policy");
  const error = said.giveups[0]!.error!;
  assertEquals([error.kind, error.retryable], ["url", false]);
  // The runtime's own words: Deno "Cannot supply the same protocol multiple times", Bun
  // "WebSocket protocols contain duplicates: 'chat'".
  assertMatch(error.message, /^Cannot connect: .*(same protocol|duplicate)/i);
  assertEquals(client.readyState, client.CLOSED);
});

test("nothing listening: every close says why, and giveup after maxRetries sums it up", async () => {
  const stopped = await serve({}, { port: 0 });
  await stopped.close();
  await stopped.finished;
  const [client, rec, said] = watched(`ws://127.0.0.1:${stopped.port}/`, {
    maxRetries: 2,
    minDelay: 5,
  });
  const giveup = await rec.next("giveup", 1);
  assertEquals([giveup.reason, giveup.attempt], ["max-retries", 2]);
  assertEquals(said.closes.length, 3);
  for (const close of said.closes) {
    assertEquals([close.code, close.error?.kind, close.error?.retryable], [1006, "network", true]);
    // The runtime's words: Deno "tcp connect error", Bun "Failed to connect".
    assertMatch(close.reason, /^connect failed: \S/);
    assert(!close.reason.includes("NetworkError"), "the runtime's lead-in is dropped");
  }
  const last = said.closes[2]!.reason.replace("connect failed: ", "");
  assertEquals(
    said.giveups[0]!.message,
    `Cannot connect: gave up after 2 retries; the last: ${last}`,
  );
  assertEquals(client.readyState, client.CLOSED);
});

test("giveup after a close code says so in a sentence too", async () => {
  await withServer({ open: (peer) => peer.close(4401, "token expired") }, async (server) => {
    const [client, rec, said] = watched(server.url);
    await rec.next("giveup", 1);
    assertEquals(said.giveups[0]!.message, "Cannot reconnect: closed with 4401 (token expired)");
    assertEquals(said.giveups[0]!.error, undefined);
    assertEquals(client.readyState, client.CLOSED);
  });
});
