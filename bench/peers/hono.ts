/**
 * Hono's WebSocket helper (Hono 4) as a benchmark subject, one file for Deno and Bun as its
 * documentation sets it up: `upgradeWebSocket` from `hono/deno` in `Deno.serve(app.fetch)`,
 * and `upgradeWebSocket` and `websocket` from `hono/bun` in `Bun.serve({ fetch: app.fetch,
 * websocket })`. Hono has no rooms or publish: a room is a `Map` of the connections' contexts
 * and a broadcast a loop of `send`, what a Hono application writes. Modes: echo, chat, fanout;
 * Hono has no typed events.
 *
 * @module
 */

import { config } from "../servers/_control.ts";
import { load } from "./_deps.ts";
import { type Fetch, listen, onBun } from "./_listen.ts";

interface WSContext {
  /** The runtime's socket: the same object for every event of one connection. */
  readonly raw: unknown;
  send(data: string): void;
}
interface WSEvents {
  onOpen?(event: Event, ws: WSContext): void;
  onMessage?(event: MessageEvent, ws: WSContext): void;
  onClose?(event: CloseEvent, ws: WSContext): void;
}
interface Context {
  req: { url: string };
}
type Upgrade = (create: (c: Context) => WSEvents) => unknown;
interface Hono {
  get(path: string, handler: unknown): void;
  fetch: Fetch;
}

const { mode, port } = config();
if (mode === "session") throw new TypeError("Cannot serve: Hono has no typed events");

const { Hono } = await load<{ Hono: new () => Hono }>("hono");
const { upgradeWebSocket, websocket } = await load<
  { upgradeWebSocket: Upgrade; websocket?: unknown }
>(
  onBun ? "hono/bun" : "hono/deno",
);

// Hono on Bun hands each event a new context: the room is keyed by the runtime's socket.
const room = new Map<unknown, WSContext>();

function events(c: Context): WSEvents {
  if (mode === "echo") {
    return { onMessage: (event, ws) => ws.send(event.data as string) };
  }
  const publisher = mode === "fanout" && new URL(c.req.url).searchParams.has("pub");
  const broadcast = (event: MessageEvent) => {
    for (const member of room.values()) member.send(event.data as string);
  };
  if (publisher) return { onMessage: broadcast };
  return {
    onOpen: (_event, ws) => void room.set(ws.raw, ws),
    onClose: (_event, ws) => void room.delete(ws.raw),
    ...(mode === "chat" ? { onMessage: broadcast } : {}),
  };
}

const app = new Hono();
app.get("*", upgradeWebSocket(events));
listen(port, (request, second) => app.fetch(request, second), websocket);
