/**
 * The adapter's own cost per message, without the network. The runtime's socket is replaced
 * by a stand-in whose `send` only counts, so what is left is the JavaScript between the runtime handing over a message and
 * the `send` call: for the bare runtime the handler itself, for wskit the adapter, the core
 * and the hook. On Deno the stand-in is an `EventTarget` put in place of
 * `Deno.upgradeWebSocket`'s socket (so Deno's event dispatch is counted on both sides); on
 * Bun the adapter's `websocket` handlers are called as Bun calls them.
 *
 * What the stand-in cannot show is the price of the runtime calls the adapter adds (on Deno,
 * every `bufferedAmount` read is an op call): the CPU profile (`profile.ts`) shows those.
 *
 * Two ways to run it:
 * - `deno task bench:micro` (`deno bench`): Deno's benchmark runner times the Deno cases,
 *   bare against wskit, per echo and per broadcast to 1000 subscribers.
 * - As a program, `deno run bench/micro_bench.ts` or `bun bench/micro_bench.ts` (the `micro`
 *   scenario of `deno task bench`): prints `result <JSON>`, nanoseconds per echo and per
 *   broadcast delivery (Deno: a loop over 1000 subscribers; Bun: the call into native
 *   publish), bare and wskit, medians of 7 rounds. Bun has no benchmark runner of its own, so
 *   its figures come only this way.
 *
 * @module
 */

import { createHandler as createBunHandler } from "@wskit/wskit/bun";
import type { BunServerWebSocket } from "@wskit/wskit/bun";
import { createHandler as createDenoHandler } from "@wskit/wskit/deno";
import type { Hooks } from "@wskit/wskit";
import { median } from "./stats.ts";

const MESSAGE = "000001:0000000001:abcdefghijklmn";
const SUBSCRIBERS = 1000;
const ROUNDS = 7;

/** Counts what would have gone out. */
let sent = 0;

function request(): Request {
  return new Request("http://127.0.0.1:8000/", {
    headers: {
      host: "127.0.0.1:8000",
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
}

const echoHooks: Hooks = { message: (peer, m) => void peer.send(m) };
const chatHooks: Hooks = {
  open: (peer) => peer.subscribe("room"),
  message: (peer, m) => peer.publish("room", m, { self: true }),
};

/** Nanoseconds per call of `step`, timed over `n` calls. */
function time(n: number, step: () => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) step();
  return (performance.now() - t0) * 1e6 / n;
}

// ---- Deno: stand-in sockets behind Deno.upgradeWebSocket -------------------------------

class FakeDenoSocket extends EventTarget {
  readyState = 1;
  bufferedAmount = 0;
  protocol = "";
  send(_data: unknown): void {
    sent++;
  }
  close(): void {
    this.readyState = 3;
  }
}

interface DenoUpgrade {
  upgradeWebSocket(r: Request, o?: unknown): { socket: WebSocket; response: Response };
}

async function denoSockets(hooks: Hooks, n: number): Promise<FakeDenoSocket[]> {
  const deno = (globalThis as unknown as { Deno: DenoUpgrade }).Deno;
  const original = deno.upgradeWebSocket;
  const sockets: FakeDenoSocket[] = [];
  deno.upgradeWebSocket = () => {
    const socket = new FakeDenoSocket();
    sockets.push(socket);
    return { socket: socket as unknown as WebSocket, response: new Response(null) };
  };
  try {
    const handler = createDenoHandler(hooks, { maxConnections: n + 1 });
    for (let i = 0; i < n; i++) await handler.handleUpgrade(request());
  } finally {
    deno.upgradeWebSocket = original;
  }
  for (const s of sockets) s.dispatchEvent(new Event("open"));
  return sockets;
}

function rawDenoSockets(n: number, chat: boolean): FakeDenoSocket[] {
  const room = new Set<FakeDenoSocket>();
  const sockets: FakeDenoSocket[] = [];
  for (let i = 0; i < n; i++) {
    const socket = new FakeDenoSocket();
    socket.addEventListener(
      "message",
      chat
        ? (e) => {
          for (const member of room) member.send((e as MessageEvent).data);
        }
        : (e) => socket.send((e as MessageEvent).data),
    );
    room.add(socket);
    sockets.push(socket);
  }
  return sockets;
}

/** One measurement: a call that hands one message to the code under test. */
interface Case {
  /** The figure's key in the printed result. */
  key: string;
  /** What `deno bench` calls it, and the group it is compared in. */
  name: string;
  group: "echo" | "broadcast";
  /** The bare runtime: the baseline of its group. */
  baseline: boolean;
  step: () => void;
  /** Calls per timing in program mode. */
  calls: number;
  /** Deliveries per call (the figure is per delivery). */
  deliveries: number;
}

/**
 * The bare and the wskit case of one figure (`raw<figure>Ns`, `wskit<figure>Ns`), the bare
 * one the baseline of their group.
 */
function pair(
  figure: "Echo" | "Delivery" | "Publish",
  name: string,
  runtime: string,
  bare: () => void,
  kit: () => void,
  calls: number,
  deliveries = 1,
): Case[] {
  const group: Case["group"] = figure === "Echo" ? "echo" : "broadcast";
  return [
    { key: `raw${figure}Ns`, name: `${name}, bare ${runtime}`, group, baseline: true, step: bare },
    { key: `wskit${figure}Ns`, name: `${name}, wskit`, group, baseline: false, step: kit },
  ].map((c) => ({ ...c, calls, deliveries }));
}

async function denoCases(): Promise<Case[]> {
  const [rawEcho] = rawDenoSockets(1, false);
  const [kitEcho] = await denoSockets(echoHooks, 1);
  const rawRoom = rawDenoSockets(SUBSCRIBERS, true);
  const kitRoom = await denoSockets(chatHooks, SUBSCRIBERS);
  const echo = (s: FakeDenoSocket) => () =>
    s.dispatchEvent(new MessageEvent("message", { data: MESSAGE }));
  return [
    ...pair("Echo", "echo", "Deno", echo(rawEcho!), echo(kitEcho!), 200_000),
    ...pair(
      "Delivery",
      `broadcast to ${SUBSCRIBERS} subscribers`,
      "Deno",
      echo(rawRoom[0]!),
      echo(kitRoom[0]!),
      300,
      SUBSCRIBERS,
    ),
  ];
}

// ---- Bun: the adapter's websocket handlers, called as Bun calls them -------------------

function fakeBunWs(data: unknown): BunServerWebSocket {
  return {
    data,
    send(m: string | Uint8Array) {
      sent++;
      return m.length + 2;
    },
    close() {},
    terminate() {},
    subscribe() {},
    unsubscribe() {},
    publish() {
      sent++;
      return 1;
    },
    getBufferedAmount: () => 0,
  };
}

async function bunPeer(hooks: Hooks): Promise<{ ws: BunServerWebSocket; message: () => void }> {
  const handler = createBunHandler(hooks);
  let data: unknown;
  const server = {
    upgrade(_r: Request, o: { data: unknown }) {
      data = o.data;
      return true;
    },
    publish() {
      sent++;
      return 1;
    },
  };
  await handler.handleUpgrade(request(), server);
  const ws = fakeBunWs(data);
  handler.websocket.open(ws);
  return { ws, message: () => handler.websocket.message(ws, MESSAGE) };
}

async function bunCases(): Promise<Case[]> {
  const kitEcho = await bunPeer(echoHooks);
  const kitChat = await bunPeer(chatHooks);
  const rawWs = fakeBunWs({ pub: false });
  const rawServer = {
    publish(_t: string, _m: string) {
      sent++;
      return 1;
    },
  };
  const raw = {
    echo(ws: BunServerWebSocket, m: string) {
      ws.send(m);
    },
    chat(_ws: BunServerWebSocket, m: string) {
      rawServer.publish("room", m);
    },
  };
  const calls = 1_000_000;
  return [
    ...pair("Echo", "echo", "Bun", () => raw.echo(rawWs, MESSAGE), kitEcho.message, calls),
    ...pair("Publish", "publish", "Bun", () => raw.chat(rawWs, MESSAGE), kitChat.message, calls),
  ];
}

/** Times every case `ROUNDS` times, interleaved, and keeps the medians (ns per delivery). */
function rounds(cases: Case[]): Record<string, number> {
  const all: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) (all[c.key] ??= []).push(time(c.calls, c.step) / c.deliveries);
  }
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, median(v.slice(1))]));
}

if (import.meta.main) {
  const figures = rounds("Bun" in globalThis ? await bunCases() : await denoCases());
  if (sent === 0) throw new Error("Nothing was sent: the stand-in sockets were not reached");
  console.log(`result ${JSON.stringify(figures)}`);
} else if ("Deno" in globalThis) {
  // Under `deno bench`: the runner picks the iterations and reports each case against its
  // group's baseline.
  for (const c of await denoCases()) {
    Deno.bench({ name: c.name, group: c.group, baseline: c.baseline, fn: c.step });
  }
}
