// The shared client-side suite: it speaks to an in-process server only through a standard
// WebSocket (and raw HTTP for handshakes), so `deno test` holds the Deno adapter and
// `bun test` the Bun adapter to the same behaviour.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { type Hooks, type Peer, serve, type Server } from "@wskit/wskit";
import { captureConsole } from "./_support/console.ts";
import { test } from "./_support/harness.ts";
import { withServer } from "./_support/serve.ts";
import { rawWebSocket } from "./_support/raw_ws.ts";
import { rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { deferred, waitFor, within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

const echo: Hooks = { message: (peer, m) => void peer.send(m) };

/** The membership part of `stats()`. */
function membership(server: Server<unknown>) {
  const { peers, topics, subscribers } = server.stats();
  return { peers, topics, subscribers };
}

test("serve() echoes text, including non-ASCII and 1 MiB, and binary as bytes", async () => {
  await withServer(echo, async (server) => {
    const c = await TestClient.connect(server.url);
    c.send("héllo wörld ✓ 🚀");
    assertEquals(await c.next(), "héllo wörld ✓ 🚀");
    c.send(new Uint8Array([0, 1, 2, 255]));
    assertEquals(await c.next(), new Uint8Array([0, 1, 2, 255]));
    const big = "é".repeat(512 * 1024);
    c.send(big);
    assertEquals(await c.next(), big);
    const bytes = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    c.send(bytes);
    assertEquals(await c.next(), bytes);
    assertEquals((await c.close(1000)).code, 1000);
  });
});

test("messages reach hooks as string or Uint8Array, never a Buffer or ArrayBuffer", async () => {
  const seen: string[] = [];
  await withServer({
    message(peer, m) {
      seen.push(typeof m === "string" ? "string" : Object.getPrototypeOf(m).constructor.name);
      peer.send("ok");
    },
  }, async (server) => {
    const c = await TestClient.connect(server.url);
    c.send("a");
    await c.next();
    c.send(new Uint8Array([1]));
    await c.next();
    await c.close();
  });
  assertEquals(seen, ["string", "Uint8Array"]);
});

test("peer.publish() leaves the sender out; { self: true } and server.publish() reach all", async () => {
  await withServer({
    open: (peer) => peer.subscribe("room"),
    message(peer, m) {
      if (m === "all") peer.publish("room", "to all", { self: true });
      else peer.publish("room", `from ${m}`);
    },
  }, async (server) => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => TestClient.connect(server.url)));
    await waitFor(() => server.stats().subscribers.room === 3, "three subscribers");
    a!.send("a");
    assertEquals(await b!.next(), "from a");
    assertEquals(await c!.next(), "from a");
    a!.send("all");
    for (const x of [a!, b!, c!]) assertEquals(await x.next(), "to all");
    server.publish("room", new Uint8Array([7]));
    for (const x of [a!, b!, c!]) assertEquals(await x.next(), new Uint8Array([7]));
    assertEquals(a!.messages.length, 2, "the sender got only the self and server publishes");
    await Promise.all([a!, b!, c!].map((x) => x.close()));
  });
});

test("topics: unsubscribe stops delivery and stats() counts peers, topics, subscribers", async () => {
  await withServer({
    open(peer) {
      peer.subscribe("x");
      peer.subscribe("y");
    },
    message(peer, m) {
      if (m === "leave") {
        peer.unsubscribe("x");
        peer.send(JSON.stringify([...peer.topics]));
      }
    },
  }, async (server) => {
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    await waitFor(() => server.stats().peers === 2, "two peers");
    assertEquals(membership(server), { peers: 2, topics: 2, subscribers: { x: 2, y: 2 } });
    b.send("leave");
    assertEquals(await b.next(), '["y"]');
    server.publish("x", "x only");
    server.publish("y", "y");
    assertEquals(await a.next(), "x only");
    assertEquals(await a.next(), "y");
    assertEquals(await b.next(), "y");
    await a.close();
    await waitFor(() => server.stats().peers === 1, "one peer");
    assertEquals(membership(server), { peers: 1, topics: 1, subscribers: { y: 1 } });
    await b.close();
    await waitFor(() => server.stats().peers === 0, "no peers");
    assertEquals(membership(server), { peers: 0, topics: 0, subscribers: {} });
  });
});

test("the upgrade hook's data, URL, headers and remote address reach the peer", async () => {
  await withServer<{ user: string }>({
    upgrade(request, info) {
      assertEquals(info.protocols, []);
      return { data: { user: new URL(request.url).searchParams.get("user") ?? "?" } };
    },
    open(peer) {
      peer.send(JSON.stringify({
        user: peer.data.user,
        path: peer.url.pathname,
        header: peer.headers.get("x-custom"),
        remote: peer.remoteAddress,
        id: typeof peer.id === "string" && peer.id.length > 0,
      }));
    },
  }, async (server) => {
    // A runtime WebSocket cannot set headers in browsers; the raw handshake can.
    const c = await TestClient.connect(`${server.url}room?user=ada`);
    const info = await c.json();
    assertEquals(info.user, "ada");
    assertEquals(info.path, "/room");
    assertEquals(info.remote, "127.0.0.1");
    assertEquals(info.id, true);
    await c.close();
    const raw = await rawHttp(server.port, upgradeRequest("/", { "x-custom": "yes" }));
    assertEquals(raw.status, 101);
    assertStringIncludes(raw.body, "yes");
  }, { peerHeaders: ["x-custom"] });
});

test("peer.headers keeps a common few by default, the ones named, or all", async () => {
  const kept = (peerHeaders?: string[] | "all") =>
    new Promise<string[]>((resolve, reject) => {
      withServer({
        open(peer) {
          resolve([...peer.headers.keys()].sort());
          peer.close();
        },
      }, async (server) => {
        const raw = await rawHttp(
          server.port,
          upgradeRequest("/", { "user-agent": "probe", "x-custom": "yes" }),
        );
        assertEquals(raw.status, 101);
      }, peerHeaders === undefined ? {} : { peerHeaders }).catch(reject);
    });
  const byDefault = await kept();
  assert(byDefault.includes("user-agent") && byDefault.includes("host"), String(byDefault));
  assert(!byDefault.includes("x-custom") && !byDefault.includes("sec-websocket-key"));
  assertEquals(await kept(["X-Custom"]), ["x-custom"]);
  const all = await kept("all");
  assert(all.includes("x-custom") && all.includes("sec-websocket-key"), String(all));
});

test("the upgrade hook chooses among offered subprotocols; without a choice, the first", async () => {
  await withServer({
    upgrade(_request, info) {
      if (info.protocols.includes("v2")) return { protocol: "v2" };
    },
    open: (peer) => void peer.send(`protocol=${peer.protocol}`),
  }, async (server) => {
    const c = await TestClient.connect(server.url, ["v1", "v2"]);
    assertEquals(c.ws.protocol, "v2");
    assertEquals(await c.next(), "protocol=v2");
    await c.close();
    // The hook chose none: the first offer, as standard clients need (tests/subprotocol_test.ts).
    const raw = await rawHttp(
      server.port,
      upgradeRequest("/", { "sec-websocket-protocol": "v3, v1" }),
    );
    assertEquals(raw.status, 101);
    assertEquals(raw.headers.get("sec-websocket-protocol"), "v3");
    const chosen = await rawHttp(
      server.port,
      upgradeRequest("/", { "sec-websocket-protocol": "v1, v2" }),
    );
    assertEquals(chosen.headers.get("sec-websocket-protocol"), "v2");
  });
});

test("choosing a subprotocol that was not offered is refused with 500 and reported", async () => {
  const errors: unknown[] = [];
  await withServer({
    upgrade: () => ({ protocol: "nope" }),
    error: (peer, e) => void errors.push([peer, e]),
  }, async (server) => {
    const raw = await rawHttp(server.port, upgradeRequest("/", { "sec-websocket-protocol": "a" }));
    assertEquals(raw.status, 500);
    assertEquals(errors.length, 1);
    const [peer, error] = errors[0] as [Peer | null, Error];
    assertEquals(peer, null);
    assertMatch(error.message, /not offered|offered "a"/);
  });
});

test("the upgrade hook refuses with any Response, returned or thrown, and extra headers go out", async () => {
  await withServer({
    upgrade(request) {
      const token = new URL(request.url).searchParams.get("token");
      if (token === null) return new Response("Unauthorized: no token", { status: 401 });
      if (token === "banned") throw new Response("Forbidden", { status: 403 });
      return { headers: { "set-cookie": "session=1; HttpOnly", "x-hello": "there" } };
    },
  }, async (server) => {
    const r401 = await rawHttp(server.port, upgradeRequest("/"));
    assertEquals(r401.status, 401);
    assertEquals(r401.body, "Unauthorized: no token");
    const r403 = await rawHttp(server.port, upgradeRequest("/?token=banned"));
    assertEquals(r403.status, 403);
    const ok = await rawHttp(server.port, upgradeRequest("/?token=t"));
    assertEquals(ok.status, 101);
    assertEquals(ok.headers.get("x-hello"), "there");
    assertEquals(ok.headers.get("set-cookie"), "session=1; HttpOnly");
  });
});

test("an upgrade hook that throws gives 500, reaches the error hook with a null peer", async () => {
  const errors: [unknown, unknown][] = [];
  await withServer({
    upgrade() {
      throw new Error("db down");
    },
    error: (peer, e) => void errors.push([peer, e]),
  }, async (server) => {
    const raw = await rawHttp(server.port, upgradeRequest("/"));
    assertEquals(raw.status, 500);
    assertEquals(errors.length, 1);
    assertEquals(errors[0]![0], null);
    assertEquals((errors[0]![1] as Error).message, "db down");
  });
});

test("close codes and reasons arrive intact in both directions", async () => {
  const closes: { code: number; reason: string }[] = [];
  await withServer({
    message(peer, m) {
      if (typeof m === "string" && m.startsWith("close ")) {
        const [, code, reason] = m.split(" ");
        peer.close(Number(code), reason);
      }
    },
    close: (_peer, details) => void closes.push(details),
  }, async (server) => {
    const a = await TestClient.connect(server.url);
    const ev = await a.close(4001, "client bye ✓");
    assertEquals(ev.code, 4001);
    await waitFor(() => closes.length === 1, "the close hook");
    assertEquals(closes[0], { code: 4001, reason: "client bye ✓" });

    for (const code of [1000, 1001, 1008, 1011, 4403]) {
      const b = await TestClient.connect(server.url);
      b.send(`close ${code} server-${code}`);
      const e = await within(b.closed, "the server's close");
      assertEquals([e.code, e.reason], [code, `server-${code}`]);
      await waitFor(
        () => closes.length === 1 + [1000, 1001, 1008, 1011, 4403].indexOf(code) + 1,
        "hook",
      );
      assertEquals(closes.at(-1), { code, reason: `server-${code}` });
    }
  });
});

test("peer.close() rejects codes and reasons that cannot go into a close frame", async () => {
  const seen = deferred<unknown[]>();
  await withServer({
    open(peer) {
      const errors = [1005, 1006, 999, 5000, 2000].map((code) => {
        try {
          peer.close(code);
          return null;
        } catch (e) {
          return e;
        }
      });
      errors.push(assertThrows(() => peer.close(1000, "x".repeat(124)), RangeError));
      seen.resolve(errors);
      peer.close();
    },
  }, async (server) => {
    const c = await TestClient.connect(server.url);
    const errors = await seen.promise;
    for (const e of errors) assertInstanceOf(e, RangeError);
    assertEquals((await c.closed).code, 1000);
  });
});

test("a hook that throws or rejects closes that peer with 1011; the server keeps serving", async () => {
  const errors: string[] = [];
  await withServer({
    async message(peer, m) {
      if (m === "throw") throw new Error("sync boom");
      if (m === "reject") {
        await Promise.resolve();
        throw new Error("async boom");
      }
      peer.send(m);
    },
    error: (peer, e) => void errors.push(`${peer?.id ? "peer" : "null"}:${(e as Error).message}`),
  }, async (server) => {
    for (const kind of ["throw", "reject"]) {
      const bad = await TestClient.connect(server.url);
      const good = await TestClient.connect(server.url);
      bad.send(kind);
      const e = await within(bad.closed, "1011");
      assertEquals(e.code, 1011);
      good.send("still here");
      assertEquals(await good.next(), "still here");
      await good.close();
    }
    assertEquals(errors, ["peer:sync boom", "peer:async boom"]);
  });
});

test("open and close hooks that throw are contained too", async () => {
  let closeHooks = 0;
  await withServer({
    open(peer) {
      if (peer.url.searchParams.has("bad")) throw new Error("open failed");
    },
    close() {
      closeHooks++;
      throw new Error("close failed");
    },
    error() {},
  }, async (server) => {
    const bad = await TestClient.connect(`${server.url}?bad`);
    assertEquals((await within(bad.closed, "1011")).code, 1011);
    const good = await TestClient.connect(server.url);
    await good.close();
    await waitFor(() => closeHooks === 2, "both close hooks");
  });
});

test("close() closes every peer with 1001, runs every close hook, then refuses upgrades", async () => {
  let closeHooks = 0;
  const server = await serve({
    open: (peer) => peer.subscribe("all"),
    async close() {
      await new Promise((r) => setTimeout(r, 20));
      closeHooks++;
    },
  }, { port: 0 });
  const clients = await Promise.all(
    Array.from({ length: 5 }, () => TestClient.connect(server.url)),
  );
  await waitFor(() => server.stats().peers === 5, "five peers");
  await server.close();
  assertEquals(closeHooks, 5, "close() resolved after every close hook");
  for (const c of clients) {
    const e = await within(c.closed, "close");
    assertEquals(e.code, 1001);
  }
  assertEquals(membership(server), { peers: 0, topics: 0, subscribers: {} });
  await server.finished;
  let refused = false;
  try {
    await TestClient.connect(server.url);
  } catch {
    refused = true;
  }
  assert(refused, "no upgrade after close()");
});

test("a plain request gets 426 with a reason, or the fetch option's answer", async () => {
  await withServer(echo, async (server) => {
    const res = await fetch(server.url.replace("ws", "http"));
    assertEquals(res.status, 426);
    assertStringIncludes(await res.text(), "Upgrade Required");
  });
  // The failing fetch handler is reported on the console (there is no hook for it).
  const captured = await captureConsole(async (captured) => {
    await withServer(echo, async (server) => {
      const res = await fetch(server.url.replace("ws", "http") + "page");
      assertEquals(await res.text(), "page at /page");
      const boom = await fetch(server.url.replace("ws", "http") + "boom");
      assertEquals(boom.status, 500);
      await boom.body?.cancel();
    }, {
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/boom") throw new Error("fetch failed on purpose");
        return new Response(`page at ${path}`);
      },
    });
    return captured;
  });
  assertEquals(captured.lines(), [
    "wskit: the fetch handler failed: Error: fetch failed on purpose",
  ]);
});

test("malformed upgrades get 400 (or 405) with a reason, never a 500", async () => {
  await withServer(echo, async (server) => {
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ "sec-websocket-key": "" }, 400, /Sec-WebSocket-Key is missing/],
      [{ "sec-websocket-key": "short" }, 400, /not 16 bytes/],
      [{ "sec-websocket-version": "8" }, 400, /Version must be 13/],
      [{ "sec-websocket-version": "" }, 400, /Version must be 13/],
      [{ connection: "keep-alive" }, 400, /Connection header/],
      [{ "sec-websocket-protocol": "a b, c" }, 400, /list of tokens/],
    ];
    for (const [headers, status, reason] of cases) {
      const res = await rawHttp(server.port, upgradeRequest("/", headers));
      assertEquals(res.status, status, JSON.stringify(headers));
      assertMatch(res.body, reason);
    }
    const post = await rawHttp(server.port, upgradeRequest("/").replace("GET", "POST"));
    assertEquals(post.status, 405);
    assertMatch(post.body, /method must be GET/);
    // The server still serves a proper client afterwards.
    const c = await TestClient.connect(server.url);
    c.send("ok");
    assertEquals(await c.next(), "ok");
    await c.close();
  });
});

test("the server answers the heartbeat ping itself; the message hook never sees it", async () => {
  const seen: unknown[] = [];
  await withServer({ message: (_p, m) => void seen.push(m) }, async (server) => {
    const c = await TestClient.connect(server.url);
    c.send("wskit:ping");
    assertEquals(await c.next(), "wskit:pong");
    c.send("app");
    await waitFor(() => seen.length === 1, "the app message");
    await c.close();
  });
  assertEquals(seen, ["app"]);
  await withServer({ message: (p, m) => void p.send(`app:${m}`) }, async (server) => {
    const c = await TestClient.connect(server.url);
    c.send("wskit:ping");
    assertEquals(await c.next(), "app:wskit:ping", "heartbeat: false hands it to the app");
    c.send("custom-ping");
    assertEquals(await c.next(), "app:custom-ping");
    await c.close();
  }, { heartbeat: false });
});

test("send() reports sent, and dropped once the peer is closed", async () => {
  const statuses = deferred<string[]>();
  await withServer({
    open(peer) {
      const first = peer.send("hi");
      peer.close(4000, "bye");
      statuses.resolve([first, peer.send("after close")]);
    },
  }, async (server) => {
    const c = await TestClient.connect(server.url);
    assertEquals(await statuses.promise, ["sent", "dropped"]);
    assertEquals(await c.next(), "hi");
    assertEquals((await c.closed).code, 4000);
  });
});

test("send() refuses what is neither text nor bytes with a TypeError", async () => {
  const error = deferred<unknown>();
  await withServer({
    open(peer) {
      try {
        peer.send({ not: "bytes" } as unknown as string);
      } catch (e) {
        error.resolve(e);
      }
      peer.close();
    },
  }, async (server) => {
    const c = await TestClient.connect(server.url);
    const e = await error.promise;
    assertInstanceOf(e, TypeError);
    assertMatch((e as Error).message, /Cannot send: expected a string or bytes, got Object/);
    await c.closed;
  });
});

test("a client that never answers the close frame: after closeTimeout the close hook still sees the server's code", async () => {
  const seen: number[] = [];
  const server = await serve({
    close: (_peer, { code }) => void seen.push(code),
  }, { port: 0, closeTimeout: 200 });
  const raw = await rawWebSocket(server.port);
  try {
    await waitFor(() => server.peers.size === 1, "the peer open");
    // The client reads nothing and answers nothing: the runtime ends the connection without
    // a close frame from it (1006), yet the server chose 1001.
    await server.close();
    assertEquals(seen, [1001]);
  } finally {
    raw.conn.close();
  }
});
