// The mountable handlers inside a plain Deno.serve / Bun.serve app (see fixtures/mount.ts).

import { assertEquals } from "@std/assert";
import { runtime, test } from "./_support/harness.ts";
import { mount, mountAll } from "./fixtures/mount.ts";
import { rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { waitFor } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

test(`createHandler() mounts under /ws in a plain ${runtime} server beside its own routes`, async () => {
  const app = mount<{ n: number }>({
    upgrade: () => ({ data: { n: 41 } }),
    open: (peer) => peer.subscribe("t"),
    message(peer, m) {
      peer.data.n++;
      peer.send(`${m}:${peer.data.n}`);
    },
  });
  try {
    assertEquals(await (await fetch(app.base)).text(), "app page");
    const c = await TestClient.connect(`${app.base.replace("http", "ws")}ws`);
    c.send("hi");
    assertEquals(await c.next(), "hi:42");
    await waitFor(() => app.endpoint.stats().subscribers.t === 1, "the subscription");
    app.endpoint.publish("t", "broadcast");
    assertEquals(await c.next(), "broadcast");
    const plain = await rawHttp(
      Number(new URL(app.base).port),
      "GET /ws HTTP/1.1\r\nhost: x\r\n\r\n",
    );
    assertEquals(plain.status, 426);
    const bad = await rawHttp(
      Number(new URL(app.base).port),
      upgradeRequest("/ws", { "sec-websocket-version": "7" }),
    );
    assertEquals(bad.status, 400);
    await app.endpoint.close();
    assertEquals((await c.closed).code, 1001);
  } finally {
    await app.close();
  }
});

test("two handlers on one server keep their topics apart", async () => {
  // On Bun, native topics are server-wide; the adapter namespaces them per handler.
  const app = mountAll({
    "/a": { open: (p) => p.subscribe("room") },
    "/b": { open: (p) => p.subscribe("room") },
  });
  const a = app.endpoints["/a"]!, b = app.endpoints["/b"]!;
  try {
    const base = app.base.replace("http", "ws");
    const ca = await TestClient.connect(`${base}a`);
    const cb = await TestClient.connect(`${base}b`);
    await waitFor(() => a.stats().peers === 1 && b.stats().peers === 1, "both peers");
    a.publish("room", "for a");
    b.publish("room", "for b");
    assertEquals(await ca.next(), "for a");
    assertEquals(await cb.next(), "for b");
    await a.close();
    await b.close();
    assertEquals([ca.messages.length, cb.messages.length], [1, 1]);
  } finally {
    await app.close();
  }
});
