// The session client against a server that sends room frames out of order (as two instances
// racing through a relay do): a gap is waited for, then filled from the store, or declared
// lost with a resync; a frame is never skipped, never delivered twice, never out of order.

import { assertEquals } from "@std/assert";
import { type Peer, serve, type Server } from "@wskit/wskit";
import { SUBPROTOCOL, VERSION } from "../../src/session/wire.ts";
import { SessionClient } from "@wskit/wskit/session-client";
import { test } from "../_support/harness.ts";
import { waitFor } from "../_support/wait.ts";
import { readClientFrame, serverFrame } from "../_support/session_wire.ts";

const EPOCH = "E1";

function room(o: number): string {
  return serverFrame({ t: "e", s: "r", o, e: "m", d: o });
}

/**
 * A hand-written session server: welcomes, answers the join of room "r" at position 0, and
 * hands every later frame from the client to `onFrame`.
 */
async function fakeServer(
  onFrame: (peer: Peer, frame: Record<string, unknown>) => void,
): Promise<Server> {
  let q = 0;
  return await serve({
    upgrade: () => ({ protocol: SUBPROTOCOL }),
    message(peer, text) {
      const frame = readClientFrame(text) ?? JSON.parse(text as string);
      // Sequenced frames are numbered in their order on the connection (one per test).
      if (frame.q === 0) frame.q = ++q;
      if (frame.t === "hello") {
        peer.send(JSON.stringify({
          t: "welcome",
          v: VERSION,
          sid: "s".repeat(22),
          pid: "p",
          recovered: false,
          q: 0,
          streams: { "": [EPOCH, 0] },
          n: 0,
        }));
      } else if (frame.t === "j") {
        peer.send(serverFrame({ t: "res", o: 1, i: frame.q, d: null, pos: [EPOCH, 0] }));
        peer.send(serverFrame({ t: "ack", q: frame.q }));
      } else {
        onFrame(peer, frame);
      }
    },
  }, { port: 0 });
}

async function joined(server: Server) {
  const client = new SessionClient(server.url, { gapTimeout: 100 });
  const seen: number[] = [];
  const resyncs: string[] = [];
  client.on("m", (d) => void seen.push(d as number));
  client.addEventListener("resync", (e) => void resyncs.push(e.reason));
  await client.join("r");
  const peer = [...server.peers.values()][0]!;
  return { client, seen, resyncs, peer };
}

test("session client: a frame ahead of its turn waits for the one before it", async () => {
  const server = await fakeServer(() => {});
  const { client, seen, resyncs, peer } = await joined(server);
  try {
    peer.send(room(2));
    peer.send(room(3));
    peer.send(room(1));
    await waitFor(() => seen.length === 3, "three messages");
    assertEquals(seen, [1, 2, 3]);
    assertEquals(resyncs, []);
  } finally {
    client.close();
    await server.close();
  }
});

test("session client: a gap that does not close by itself is filled from the server, in order", async () => {
  const fills: unknown[] = [];
  const server = await fakeServer((peer, frame) => {
    if (frame.t !== "g") return;
    fills.push(frame);
    // The store has what the client lacks: send it, then where the stream stands.
    peer.send(room(1));
    peer.send(room(2));
    peer.send(serverFrame({ t: "p", s: "r", o: 4 }));
  });
  const { client, seen, resyncs, peer } = await joined(server);
  try {
    peer.send(room(3));
    peer.send(room(4));
    await waitFor(() => seen.length === 4, "four messages");
    assertEquals(seen, [1, 2, 3, 4]);
    assertEquals(fills, [{ t: "g", s: "r", p: [EPOCH, 0] }]);
    assertEquals(resyncs, []);
    peer.send(room(2)); // a late copy
    peer.send(room(5));
    await waitFor(() => seen.length === 5, "the fifth");
    assertEquals(seen, [1, 2, 3, 4, 5], "nothing twice");
  } finally {
    client.close();
    await server.close();
  }
});

test("session client: a gap the server can no longer fill is a resync, then the rest in order", async () => {
  const server = await fakeServer((peer, frame) => {
    if (frame.t === "g") peer.send(serverFrame({ t: "lost", s: "r", o: 2 }));
  });
  const { client, seen, resyncs, peer } = await joined(server);
  try {
    peer.send(room(4));
    peer.send(room(3));
    await waitFor(() => resyncs.length === 1, "a resync");
    assertEquals(resyncs, ["gap"]);
    await waitFor(() => seen.length === 2, "what was held");
    assertEquals(seen, [3, 4]);
    peer.send(room(5));
    await waitFor(() => seen.length === 3, "the next");
    assertEquals(seen, [3, 4, 5]);
  } finally {
    client.close();
    await server.close();
  }
});

test("session client: a hint that the stream went further asks for what it lacks", async () => {
  const server = await fakeServer((peer, frame) => {
    if (frame.t === "g") {
      peer.send(room(1));
      peer.send(serverFrame({ t: "p", s: "r", o: 1 }));
    }
  });
  const { client, seen, peer } = await joined(server);
  try {
    // Nothing arrives but the news that the room holds one entry this client never got.
    peer.send(serverFrame({ t: "p", s: "r", o: 1 }));
    await waitFor(() => seen.length === 1, "the missed message");
    assertEquals(seen, [1]);
  } finally {
    client.close();
    await server.close();
  }
});
