// The authentication patterns the README shows, run on both runtimes: a token in the query,
// a cookie, a token in Sec-WebSocket-Protocol, and "accept, then close with 4401" for
// browsers (which see a refused upgrade only as 1006).

import { assertEquals, assertMatch } from "@std/assert";
import { test } from "./_support/harness.ts";
import { withServer } from "./_support/serve.ts";
import { rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

const TOKENS = new Map([["s3cret", "ada"]]);

test("auth: a token in the query string, refused with 401 without it", async () => {
  await withServer<{ user: string }>({
    upgrade(request) {
      const user = TOKENS.get(new URL(request.url).searchParams.get("token") ?? "");
      if (!user) return new Response("Unauthorized: a valid ?token= is required", { status: 401 });
      return { data: { user } };
    },
    open: (peer) => void peer.send(`hello ${peer.data.user}`),
  }, async (server) => {
    const c = await TestClient.connect(`${server.url}?token=s3cret`);
    assertEquals(await c.next(), "hello ada");
    await c.close();
    const res = await rawHttp(server.port, upgradeRequest("/?token=wrong"));
    assertEquals(res.status, 401);
    assertMatch(res.body, /valid \?token=/);
  });
});

test("auth: a session cookie", async () => {
  await withServer<{ user: string }>({
    upgrade(request) {
      const cookie = request.headers.get("cookie") ?? "";
      const session = /(?:^|;\s*)session=([^;]+)/.exec(cookie)?.[1];
      const user = session ? TOKENS.get(session) : undefined;
      if (!user) return new Response("Unauthorized: no session", { status: 401 });
      return { data: { user } };
    },
  }, async (server) => {
    const ok = await rawHttp(
      server.port,
      upgradeRequest("/", { cookie: "theme=dark; session=s3cret" }),
    );
    assertEquals(ok.status, 101);
    const no = await rawHttp(server.port, upgradeRequest("/", { cookie: "theme=dark" }));
    assertEquals(no.status, 401);
  });
});

test("auth: a bearer token in Sec-WebSocket-Protocol, never echoed back", async () => {
  await withServer<{ user: string }>({
    upgrade(_request, { protocols }) {
      const bearer = protocols.find((p) => p.startsWith("bearer."));
      const user = bearer ? TOKENS.get(bearer.slice("bearer.".length)) : undefined;
      if (!user || !protocols.includes("chat.v1")) {
        return new Response("Unauthorized", { status: 401 });
      }
      // Answer with the application protocol; the token stays a request-only value.
      return { data: { user }, protocol: "chat.v1" };
    },
    open: (peer) => void peer.send(`hello ${peer.data.user}`),
  }, async (server) => {
    const c = await TestClient.connect(server.url, ["chat.v1", "bearer.s3cret"]);
    assertEquals(c.ws.protocol, "chat.v1");
    assertEquals(await c.next(), "hello ada");
    await c.close();
    const res = await rawHttp(
      server.port,
      upgradeRequest("/", { "sec-websocket-protocol": "chat.v1, bearer.nope" }),
    );
    assertEquals(res.status, 401);
  });
});

test("auth: accept, then close with 4401 or 4403, which a browser can read", async () => {
  await withServer<{ user: string | undefined; banned: boolean }>({
    upgrade(request) {
      const token = new URL(request.url).searchParams.get("token") ?? "";
      return { data: { user: TOKENS.get(token), banned: token === "banned" } };
    },
    open(peer) {
      if (peer.data.banned) return peer.close(4403, "Forbidden");
      if (!peer.data.user) return peer.close(4401, "Unauthorized: sign in again");
      peer.send("welcome");
    },
  }, async (server) => {
    const anon = await TestClient.connect(server.url);
    const e = await within(anon.closed, "4401");
    assertEquals([e.code, e.reason], [4401, "Unauthorized: sign in again"]);
    const banned = await TestClient.connect(`${server.url}?token=banned`);
    assertEquals((await within(banned.closed, "4403")).code, 4403);
    const ok = await TestClient.connect(`${server.url}?token=s3cret`);
    assertEquals(await ok.next(), "welcome");
    await ok.close();
  });
});
