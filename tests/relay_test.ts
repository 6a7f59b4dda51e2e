// The relay seam with the BroadcastChannel driver: two endpoints in one process stand in
// for two workers (a channel delivers to every other object of the same name, in this
// worker or another).

import { assert, assertEquals } from "@std/assert";
import { type Hooks, serve, type Server } from "@wskit/wskit";
import { BroadcastChannelRelay } from "@wskit/wskit/broadcast-channel";
import { test } from "./_support/harness.ts";
import { waitFor } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

const room: Hooks = {
  open: (peer) => peer.subscribe("room"),
  message: (peer, m) => peer.publish("room", m),
};

async function pair(name: string): Promise<[Server, Server]> {
  const a = await serve(room, { port: 0, relay: new BroadcastChannelRelay(name) });
  const b = await serve(room, { port: 0, relay: new BroadcastChannelRelay(name) });
  return [a, b];
}

test("relay: a publish on one instance reaches the other's subscribers once, in order", async () => {
  const [a, b] = await pair(`order-${crypto.randomUUID()}`);
  try {
    const onA = await TestClient.connect(a.url);
    const onB = await TestClient.connect(b.url);
    const alsoOnB = await TestClient.connect(b.url);
    await waitFor(() => a.stats().peers === 1 && b.stats().peers === 2, "three peers");
    for (let i = 0; i < 500; i++) a.publish("room", `server ${i}`);
    onB.send("from b");
    await waitFor(
      () => onB.messages.length === 500 && onA.messages.length === 501,
      "every delivery",
    );
    assertEquals(onB.messages, Array.from({ length: 500 }, (_, i) => `server ${i}`));
    assertEquals(onA.messages.at(-1), "from b", "the other instance's peer publish arrives");
    await waitFor(() => alsoOnB.messages.length === 501, "b's other client");
    assertEquals(alsoOnB.messages.at(-1), "from b");
    assert(!onB.messages.includes("from b"), "the sender is left out, on every instance");
    assertEquals(a.stats().relay!.published, 500);
    assertEquals(b.stats().relay!.received, 500);
    await Promise.all([onA, onB, alsoOnB].map((c) => c.close()));
  } finally {
    await a.close();
    await b.close();
  }
});

test("relay: binary publishes cross the relay as bytes", async () => {
  const [a, b] = await pair(`bytes-${crypto.randomUUID()}`);
  try {
    const onB = await TestClient.connect(b.url);
    await waitFor(() => b.stats().subscribers.room === 1, "the subscriber");
    a.publish("room", new Uint8Array([1, 2, 3]));
    assertEquals(await onB.next(), new Uint8Array([1, 2, 3]));
    await onB.close();
  } finally {
    await a.close();
    await b.close();
  }
});

test("relay: a local publish stays on its instance", async () => {
  const [a, b] = await pair(`local-${crypto.randomUUID()}`);
  try {
    const onA = await TestClient.connect(a.url);
    const onB = await TestClient.connect(b.url);
    await waitFor(() => a.stats().peers === 1 && b.stats().peers === 1, "two peers");
    a.publish("room", "only here", { local: true });
    a.publish("room", "everywhere");
    assertEquals(await onA.next(), "only here");
    assertEquals(await onB.next(), "everywhere");
    await Promise.all([onA.close(), onB.close()]);
  } finally {
    await a.close();
    await b.close();
  }
});
