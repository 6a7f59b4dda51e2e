// Places among maxConnections against clients that take one and never use it: upgrades whose
// client leaves before reading the 101 (Deno then neither opens nor closes the socket), and
// many connections from one address.

import { assert, assertEquals, assertMatch } from "@std/assert";
import type { Hooks } from "@wskit/wskit";
import { captureConsole } from "../_support/console.ts";
import { test } from "../_support/harness.ts";
import { flags } from "../_support/runtime_flags.ts";
import { withServer } from "../_support/serve.ts";
import { type RawWebSocket, rawWebSocket } from "../_support/raw_ws.ts";
import { frame } from "../_support/ws_wire.ts";
import { connectTcp, rawHttp, upgradeRequest } from "../_support/tcp.ts";
import { deferred, waitFor, within } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";

const echo: Hooks = { message: (peer, m) => void peer.send(m) };
/** How Deno's warning about `request.signal` begins. */
const SIGNAL_WARNING = "Deno.serve: request.signal aborts on successful responses";

test(
  "capacity: upgrades reset before the 101, more than maxConnections, do not lock the server out",
  async () => {
    const max = 3;
    const resets = max + 2;
    let arrived = 0;
    let gone = 0;
    // Deno 2.9 warns that `request.signal` aborts once a response is sent (its legacy
    // behaviour): that abort is what the hook below waits for.
    await captureConsole(async (log) => {
      await withServer({
        ...echo,
        async upgrade(request) {
          // The first upgrades wait until the server has seen their client go, so that each 101
          // is written to a connection that no longer reads.
          if (arrived === resets) return;
          arrived++;
          const signal = request.signal;
          await within(
            new Promise((r) => signal.aborted ? r(0) : signal.addEventListener("abort", r)),
            "the server to see the reset",
          );
          gone++;
        },
      }, async (server) => {
        const conns = [];
        for (let i = 0; i < resets; i++) {
          const conn = await connectTcp(server.port);
          conn.write(upgradeRequest("/"));
          conns.push(conn);
        }
        await waitFor(() => arrived === resets, "every upgrade at the hook");
        for (const conn of conns) conn.close();
        await waitFor(() => gone === resets, "every reset seen");
        // Deno never opens those sockets, nor reports them closed: they held their places for
        // good, and stats() said 0 peers. openTimeout now gives them up.
        await waitFor(() => server.stats().pending === 0, "the places to be free", 5_000);
        const c = await TestClient.connect(server.url);
        c.send("in");
        assertEquals(await c.next(), "in");
        assertEquals(server.stats().peers, 1);
        if (flags.resetUpgradeLingers) {
          assert(server.stats().closed.openTimeout >= 1, "given up after openTimeout");
        }
        await c.close();
      }, { maxConnections: max, openTimeout: 300 });
      assertEquals(log.lines().filter((line) => !line.startsWith(SIGNAL_WARNING)), []);
    });
    // Deno itself never completes the upgrade ops of those sockets (nor the graceful shutdown
    // that waits for them): leaks of the runtime, which no JS can end.
  },
  { sanitize: !flags.resetUpgradeLingers },
);

test("capacity: stats() shows upgrades that have not opened as pending", async () => {
  const gate = deferred<void>();
  await withServer({ upgrade: () => gate.promise }, async (server) => {
    assertEquals(server.stats().pending, 0);
    const opening = TestClient.connect(server.url);
    // Still in the upgrade hook: not yet holding a place, so not pending.
    assertEquals(server.stats().pending, 0);
    gate.resolve();
    const c = await opening;
    assertEquals([server.stats().pending, server.stats().peers], [0, 1]);
    await c.close();
  });
});

test("maxConnectionsPerAddress: one address gets 503 past it, others and freed places pass", async () => {
  await withServer(echo, async (server) => {
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    const third = await rawHttp(server.port, upgradeRequest("/"));
    assertEquals(third.status, 503);
    assertMatch(third.body, /this address holds its maximum of 2 connections/);
    assertEquals(server.stats().refused.address, 1);
    await a.close();
    await waitFor(() => server.stats().peers === 1, "a freed place");
    const c = await TestClient.connect(server.url);
    await Promise.all([b.close(), c.close()]);
  }, { maxConnectionsPerAddress: 2 });
});

test("maxConnectionsPerAddress: behind a trusted proxy the client is the X-Forwarded-For address", async () => {
  const upgrade = (port: number, forwardedFor: string) =>
    rawHttp(port, upgradeRequest("/", { "x-forwarded-for": forwardedFor }));
  // An untrusted peer's X-Forwarded-For is ignored: everything counts under 127.0.0.1.
  await withServer(echo, async (server) => {
    const held = await TestClient.connect(server.url);
    assertEquals((await upgrade(server.port, "10.0.0.1")).status, 503);
    await held.close();
  }, { maxConnectionsPerAddress: 1 });
  await withServer(echo, async (server) => {
    // rawHttp closes each connection once it has the answer; hold the places with hooks.
    const held = await TestClient.connect(server.url); // no header: counted as 127.0.0.1
    assertEquals((await upgrade(server.port, "10.0.0.1")).status, 101);
    assertEquals((await upgrade(server.port, "10.0.0.2, 127.0.0.1")).status, 101);
    await held.close();
  }, { maxConnectionsPerAddress: 1, trustProxy: ["127.0.0.1"] });
});

test("capacity: connections closed by a limit count against maxConnections until they are gone", async () => {
  const max = 2;
  await withServer(echo, async (server) => {
    const held: RawWebSocket[] = [];
    let refused = 0;
    for (let i = 0; i < max + 2; i++) {
      let raw;
      try {
        raw = await rawWebSocket(server.port);
      } catch {
        refused++;
        continue;
      }
      // A burst past the rate limit, then silence: the client never answers the close frame.
      raw.write(Uint8Array.from(Array.from({ length: 10 }, () => [...frame(1, "x")]).flat()));
      await waitFor(
        () => raw.closeCode() !== undefined || raw.conn.isClosed,
        "the close",
      );
      assertEquals(raw.closeCode(), 1008);
      held.push(raw);
    }
    // Where such a connection lingers (flags.closedConnectionLingers), its place stays taken.
    const isOpen = (r: RawWebSocket) => !r.conn.isClosed;
    if (!flags.closedConnectionLingers) await waitFor(() => !held.some(isOpen), "their end");
    const open = held.filter(isOpen);
    assert(open.length <= max, `${open.length} connections held with a maximum of ${max}`);
    assertEquals(server.stats().closing, open.length);
    assertEquals(refused, flags.closedConnectionLingers ? 2 : 0);
    for (const r of held) r.conn.close();
    await waitFor(() => server.stats().closing === 0, "the places to be free");
  }, { maxConnections: max, rateLimit: { messages: 5, burst: 1000 } });
});
