// Hostile requests and odd hook return values against the server core: nothing a client sends
// and nothing a hook returns ends in an exception outside the hooks' containment, an
// unhandled rejection, or a refusal that differs between the runtimes.

import { assertEquals, assertInstanceOf, assertMatch } from "@std/assert";
import type { Hooks, UpgradeResult } from "@wskit/wskit";
import { test } from "../_support/harness.ts";
import { withServer } from "../_support/serve.ts";
import { rawHttp, upgradeRequest } from "../_support/tcp.ts";
import { waitFor } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";
import { watchUnhandled } from "../_support/unhandled.ts";

test("a hostile Host header leaves peer.url readable: the path and query, an invalid host", async () => {
  const seen: string[] = [];
  const errors: unknown[] = [];
  await withServer({
    open: (peer) => void seen.push(`${peer.url.pathname}${peer.url.search}`),
    error: (_p, e) => void errors.push(e),
  }, async (server) => {
    for (const host of ["a b", "[::1", "%", "x:99999", "évil"]) {
      const res = await rawHttp(server.port, upgradeRequest("/room?x=1", { host }));
      assertEquals(res.status, 101, host);
    }
    await waitFor(() => seen.length + errors.length === 5, "five opens");
    assertEquals(errors, []);
    assertEquals(seen, Array(5).fill("/room?x=1"));
  });
});

test("hook results the core cannot use are refused with 500 and reported, never thrown", async () => {
  const watch = watchUnhandled();
  const errors: unknown[] = [];
  let result: () => UpgradeResult<unknown> = () => undefined;
  const hooks: Hooks = { upgrade: () => result(), error: (_p, e) => void errors.push(e) };
  try {
    await withServer(hooks, async (server) => {
      result = () => ({ headers: 42 as unknown as HeadersInit });
      const badHeaders = await rawHttp(server.port, upgradeRequest("/"));
      assertEquals(badHeaders.status, 500);
      assertMatch(badHeaders.body, /the upgrade hook's answer cannot be used/);
      result = () => ({ headers: { "bad header": "x" } });
      assertEquals((await rawHttp(server.port, upgradeRequest("/"))).status, 500);
      result = () => ({ protocol: "chosen" });
      assertEquals((await rawHttp(server.port, upgradeRequest("/"))).status, 500);
      assertEquals(errors.length, 3);
      errors.forEach((e) => assertInstanceOf(e, TypeError));
      result = () => undefined;
      const c = await TestClient.connect(server.url);
      await c.close();
    });
    await withServer({ error: (_p, e) => void errors.push(e) }, async (server) => {
      const res = await rawHttp(server.port, upgradeRequest("/", { origin: "https://x.example" }));
      assertEquals(res.status, 500);
      assertMatch(res.body, /the origin check failed/);
      assertEquals((errors.at(-1) as Error).message, "policy down");
    }, {
      origins: () => {
        throw new Error("policy down");
      },
    });
  } finally {
    assertEquals(watch.stop(), []);
  }
});

test("a subprotocol list without spaces is read the same on both runtimes", async () => {
  await withServer({ upgrade: (_r, info) => ({ protocol: info.protocols.at(-1)! }) }, async (s) => {
    for (const offered of ["a,b", "a ,\tb", "a, b"]) {
      const res = await rawHttp(s.port, upgradeRequest("/", { "sec-websocket-protocol": offered }));
      assertEquals(res.status, 101, offered);
      assertEquals(res.headers.get("sec-websocket-protocol"), "b", offered);
    }
  });
});
