/**
 * What wskit's layers cost, measured inside one process of each runtime with that runtime's
 * own `WebSocket` as the client (the same client for both sides of each comparison):
 *
 * - **session**: an echo of 32-byte text as plain messages, and the same echo as session
 *   events (sequence numbers, offsets, acks): messages/s and bytes on the wire per message;
 * - **relay**: one publisher to 100 subscribers, all on one server, then split over two
 *   servers joined by a Redis relay: deliveries/s (needs `redis-server`, started here);
 * - **soak**: clients joining, chatting and leaving the chat room for a while: peak RSS, and
 *   nothing left behind (peers, subscribers, sessions).
 *
 * Run by `bench/run.ts` on each runtime; prints one `result {json}` line per measurement.
 *
 *     deno run -A bench/layers.ts [--quick] [--redis redis://127.0.0.1:PORT]
 *     bun bench/layers.ts [--quick] [--redis redis://127.0.0.1:PORT]
 *
 * @module
 */

import { chatApp } from "../examples/chat_app/room.ts";
import { type Protocol, serve, SessionClient, sessions } from "@wskit/wskit";
import { RedisRelay } from "@wskit/wskit/redis";
import { args, exit, memoryUsage } from "../tests/_support/this_process.ts";

const argv = args();
const quick = argv.includes("--quick");
const redisAt = argv.indexOf("--redis");
const redis = redisAt >= 0 ? argv[redisAt + 1] : undefined;

const PAYLOAD = "x".repeat(32);
const ECHOES = quick ? 20_000 : 200_000;
const IN_FLIGHT = 16;

interface Echo extends Protocol {
  clientEvents: { ping: { s: string } };
  serverEvents: { pong: { s: string } };
  clientRequests: Record<never, never>;
  serverRequests: Record<never, never>;
}

function report(name: string, figures: Record<string, number | boolean | string>): void {
  console.log(`result ${JSON.stringify({ name, ...figures })}`);
}

function rssMiB(): number {
  return memoryUsage().rss / 1024 / 1024;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("cannot connect"));
  });
}

/** Plain echo: 32 bytes each way per message, frame headers aside. */
async function plainEcho(): Promise<void> {
  const server = await serve({ message: (peer, m) => void peer.send(m) }, { port: 0 });
  const ws = new WebSocket(server.url);
  await opened(ws);
  let sent = 0;
  let got = 0;
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      if (e.data !== PAYLOAD) throw new Error("corrupted echo");
      if (++got === ECHOES) return resolve();
      if (sent < ECHOES) sent++, ws.send(PAYLOAD);
    };
  });
  const start = performance.now();
  for (; sent < IN_FLIGHT; sent++) ws.send(PAYLOAD);
  await done;
  const seconds = (performance.now() - start) / 1000;
  ws.close();
  await server.close();
  report("session_plain", { perSecond: ECHOES / seconds, bytesPerMessage: PAYLOAD.length * 2 });
}

/** The same echo as session events, counting every byte both ways (acks included). */
async function sessionEcho(): Promise<void> {
  const app = sessions<Echo>({ events: { ping: (s, d) => s.emit("pong", d) } });
  const server = await serve(app.hooks, { port: 0 });
  const c = new SessionClient<Echo>(server.url, { heartbeat: false });
  await new Promise((r) => c.addEventListener("open", r, { once: true }));
  let bytes = 0;
  const send = c.socket.send.bind(c.socket);
  c.socket.send = (data) => {
    if (typeof data === "string") bytes += data.length;
    return send(data);
  };
  c.socket.addEventListener("message", (e) => {
    if (typeof e.data === "string") bytes += e.data.length;
  });
  let sent = 0;
  let got = 0;
  const done = new Promise<void>((resolve) => {
    c.on("pong", (d) => {
      if (d.s !== PAYLOAD) throw new Error("corrupted echo");
      if (++got === ECHOES) return resolve();
      if (sent < ECHOES) sent++, c.emit("ping", { s: PAYLOAD });
    });
  });
  const start = performance.now();
  for (; sent < IN_FLIGHT; sent++) c.emit("ping", { s: PAYLOAD });
  await done;
  const seconds = (performance.now() - start) / 1000;
  const stats = app.stats();
  c.close();
  await server.close();
  report("session_events", {
    perSecond: ECHOES / seconds,
    bytesPerMessage: bytes / ECHOES,
    duplicates: stats.duplicates,
  });
}

const SUBSCRIBERS = 100;
const PUBLISHES = quick ? 500 : 5_000;

/** One publisher, 100 subscribers, on one server or on two joined by the Redis relay. */
async function fanout(split: boolean): Promise<void> {
  const hooks = { open: (peer: { subscribe(t: string): void }) => peer.subscribe("room") };
  const channel = `bench-${crypto.randomUUID()}`;
  const relay = () => split ? { relay: new RedisRelay({ url: redis!, channel }) } : {};
  const a = await serve(hooks, { port: 0, ...relay() });
  const b = split ? await serve(hooks, { port: 0, ...relay() }) : a;
  if (split) {
    for (let i = 0; i < 200 && !(a.stats().relay?.connected && b.stats().relay?.connected); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  let delivered = 0;
  const expected = SUBSCRIBERS * PUBLISHES;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => resolveAll = r);
  const clients: WebSocket[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const ws = new WebSocket((i % 2 ? b : a).url);
    ws.onmessage = () => {
      if (++delivered === expected) resolveAll();
    };
    await opened(ws);
    clients.push(ws);
  }
  while (a.stats().peers + (split ? b.stats().peers : 0) < SUBSCRIBERS) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const start = performance.now();
  for (let n = 0; n < PUBLISHES; n++) {
    a.publish("room", PAYLOAD);
    if (n % 50 === 49) await new Promise((r) => setTimeout(r, 0));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([all, new Promise<void>((r) => timer = setTimeout(r, 60_000))]);
  clearTimeout(timer);
  const seconds = (performance.now() - start) / 1000;
  for (const ws of clients) ws.close();
  await a.close();
  if (split) await b.close();
  report(split ? "relay_redis" : "relay_single", {
    deliveriesPerSecond: delivered / seconds,
    complete: delivered === expected,
  });
}

/** Churn against the chat room; afterwards nothing may be left. */
async function soak(): Promise<void> {
  const seconds = quick ? 3 : 60;
  const app = chatApp();
  const server = await serve(app.hooks, { port: 0 });
  const end = Date.now() + seconds * 1000;
  let connections = 0;
  let peak = rssMiB();
  const live = new Set<WebSocket>();
  while (Date.now() < end) {
    while (live.size < 50) {
      const ws = new WebSocket(server.url);
      await opened(ws);
      live.add(ws);
      connections++;
    }
    for (const ws of live) if (Math.random() < 0.5) ws.send("soak");
    for (const ws of [...live]) {
      if (Math.random() < 0.2) {
        live.delete(ws);
        ws.close();
      }
    }
    peak = Math.max(peak, rssMiB());
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const ws of live) ws.close();
  for (let i = 0; i < 400 && server.stats().peers > 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const stats = server.stats();
  await server.close();
  report("soak", {
    seconds,
    connections,
    peakRssMiB: peak,
    leftPeers: stats.peers,
    leftSubscribers: Object.keys(stats.subscribers).length,
    leftSessions: app.stats().sessions,
  });
}

await plainEcho();
await sessionEcho();
await fanout(false);
if (redis) await fanout(true);
await soak();
// Client sockets still finishing their closing handshakes would keep the process a while.
exit(0);
