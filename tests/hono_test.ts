// wskit mounted on a route of a Hono app (tests/fixtures/hono_app.ts), beside ordinary routes,
// on each runtime. Hono is installed on demand into tests/.deps/ (tests/_support/npm.ts); where
// npm cannot get it, the tests are skipped with the reason.

import { assertEquals } from "@std/assert";
import { runtime, test } from "./_support/harness.ts";
import { npmPackage } from "./_support/npm.ts";
import { rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { waitFor } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";
import { startHonoApp, TOKEN } from "./fixtures/hono_app.ts";

const hono = await npmPackage("hono", 4);
const entry = "entry" in hono ? hono.entry : "";
const options = { skip: "unavailable" in hono ? hono.unavailable : undefined, timeout: 30_000 };

test(`Hono on ${runtime}: wskit on a route echoes and publishes beside the routes`, async () => {
  const addresses: (string | undefined)[] = [];
  const app = await startHonoApp(entry, {
    open(peer) {
      addresses.push(peer.remoteAddress);
      peer.subscribe("room");
    },
    message(peer, message) {
      if (typeof message === "string" && message.startsWith("all:")) {
        peer.publish("room", message.slice(4), { self: true });
      } else peer.send(message);
    },
  });
  try {
    const home = await fetch(app.base);
    assertEquals([home.status, await home.text()], [200, "hello from hono"]);
    const json = await fetch(`${app.base}json`);
    assertEquals(json.headers.get("content-type")?.startsWith("application/json"), true);
    assertEquals(await json.json(), { framework: "hono" });

    const url = `${app.base.replace("http", "ws")}ws?token=${TOKEN}`;
    const a = await TestClient.connect(url);
    const b = await TestClient.connect(url);
    a.send("echo me");
    assertEquals(await a.next(), "echo me");
    a.send(new Uint8Array([1, 2, 3]));
    assertEquals(await a.next(), new Uint8Array([1, 2, 3]));
    await waitFor(() => app.endpoint.stats().subscribers.room === 2, "both subscriptions");
    b.send("all:from b");
    assertEquals([await a.next(), await b.next()], ["from b", "from b"]);
    app.endpoint.publish("room", "from the server");
    assertEquals([await a.next(), await b.next()], ["from the server", "from the server"]);
    // Hono hands the runtime's second fetch argument on as c.env: the address gets through.
    assertEquals(addresses, ["127.0.0.1", "127.0.0.1"]);

    // The app's routes still answer while sockets are open.
    assertEquals(await (await fetch(app.base)).text(), "hello from hono");
    await app.endpoint.close();
    assertEquals([(await a.closed).code, (await b.closed).code], [1001, 1001]);
    // A route that returns no Response once upgraded would have reached Hono's error handler.
    assertEquals(app.errors, []);
  } finally {
    await app.close();
  }
}, options);

test(`Hono on ${runtime}: the route's middleware refuses, a plain request gets 426`, async () => {
  const app = await startHonoApp(entry, {});
  try {
    const port = Number(new URL(app.base).port);
    const refused = await rawHttp(port, upgradeRequest("/ws?token=wrong"));
    assertEquals([refused.status, refused.body], [401, "Unauthorized"]);
    const plain = await rawHttp(port, `GET /ws?token=${TOKEN} HTTP/1.1\r\nhost: x\r\n\r\n`);
    assertEquals(plain.status, 426);
    const missing = await fetch(`${app.base}nowhere`);
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
    assertEquals(app.endpoint.stats().peers, 0);
    assertEquals(app.errors, []);
  } finally {
    await app.close();
  }
}, options);
