// Graceful shutdown under load, in-process and as a real process on SIGTERM.

import { assert, assertEquals } from "@std/assert";
import { serve } from "../mod.ts";
import { runtime, test } from "./_harness.ts";
import { startExample } from "./_process.ts";
import { rawHttp, upgradeRequest } from "./_tcp.ts";
import { waitFor, within } from "./_wait.ts";

const CLIENTS = 200;

/**
 * Bun delivers the server's 1001 to every client. Deno drops a server-side connection as
 * soon as a data frame arrives after its close frame (ext/websocket/01_websocket.js, the
 * CLOSING check in `_eventLoop`), so a client that was sending at that instant sees 1006; we
 * measured about 1 in 100 under this load. The close hook sees 1001 on both.
 */
function expectGoingAway(codes: number[]): void {
  const counts: Record<number, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  console.log(`client close codes on ${runtime}: ${JSON.stringify(counts)}`);
  const unexpected = codes.filter((c) => c !== 1001 && c !== 1006 && c !== 0);
  assertEquals(unexpected, [], "only 1001 (or Deno's abnormal close)");
  const goingAway = counts[1001] ?? 0;
  if (runtime === "bun") assertEquals(goingAway, codes.length);
  else assert(goingAway >= codes.length * 0.9, `${goingAway} of ${codes.length} saw 1001`);
}

/** Opens `n` chatting clients: each sends about five messages a second. */
async function chatters(url: string, n: number) {
  const sockets: WebSocket[] = [];
  const closes: CloseEvent[][] = [];
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, (_, j) =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(url);
          const mine: CloseEvent[] = [];
          closes[i + j] = mine;
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error("a chatter failed to connect"));
          ws.onclose = (e) => mine.push(e);
          sockets[i + j] = ws;
        })),
    );
  }
  let sent = 0;
  const timer = setInterval(() => {
    for (const ws of sockets) {
      if (ws.readyState === WebSocket.OPEN && Math.random() < 0.05) {
        ws.send(`hello ${sent++}`);
      }
    }
  }, 10);
  return {
    sockets,
    closes,
    sent: () => sent,
    stop: () => clearInterval(timer),
  };
}

test(
  `close() while ${CLIENTS} clients chat: one close each, every close hook once with 1001, 503 meanwhile`,
  async () => {
    const hookCalls = new Map<string, number>();
    const closeCodes: number[] = [];
    let received = 0;
    const server = await serve({
      open: (peer) => peer.subscribe("chat"),
      message(peer, m) {
        received++;
        peer.publish("chat", m);
      },
      async close(peer, { code }) {
        hookCalls.set(peer.id, (hookCalls.get(peer.id) ?? 0) + 1);
        closeCodes.push(code);
        // An async hook keeps close() waiting, which is the window for new upgrades.
        await new Promise((r) => setTimeout(r, 20));
      },
    }, { port: 0 });
    const crowd = await chatters(server.url, CLIENTS);
    try {
      await waitFor(() => received > 100, "the chat to get going");
      const closing = server.close();
      const during = await rawHttp(server.port, upgradeRequest("/"));
      assertEquals(during.status, 503);
      await within(closing, "close() to resolve", 15_000);
      assertEquals(hookCalls.size, CLIENTS);
      assert([...hookCalls.values()].every((n) => n === 1), "every close hook ran exactly once");
      assertEquals(closeCodes, new Array(CLIENTS).fill(1001), "every close hook saw 1001");
      await waitFor(() => crowd.closes.every((c) => c.length > 0), "every client's close", 10_000);
      assert(crowd.closes.every((c) => c.length === 1), "each client closed exactly once");
      expectGoingAway(crowd.closes.map((c) => c[0]!.code));
    } finally {
      crowd.stop();
      for (const ws of crowd.sockets) if (ws.readyState < WebSocket.CLOSING) ws.close();
    }
  },
  { timeout: 40_000 },
);

test(
  `examples/chat.ts on ${runtime} exits 0 on SIGTERM while ${CLIENTS} clients chat; each sees one close`,
  async () => {
    const chat = await startExample(runtime, "chat", ["--port", "0"]);
    let crowd: Awaited<ReturnType<typeof chatters>> | undefined;
    try {
      crowd = await chatters(chat.url, CLIENTS);
      await waitFor(() => crowd!.sent() > 100, "the chat to get going");
      assertEquals(await chat.stop(), 0, "the process exits cleanly");
      const c = crowd;
      await waitFor(() => c.closes.every((x) => x.length > 0), "every client's close", 10_000);
      assert(c.closes.every((x) => x.length === 1), "each client closed exactly once");
      expectGoingAway(c.closes.map((x) => x[0]!.code));
    } finally {
      crowd?.stop();
      chat.child.kill("SIGKILL");
      await chat.child.exited;
    }
  },
  { timeout: 60_000 },
);
