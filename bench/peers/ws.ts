/**
 * `ws` (8.x) on Node as a benchmark subject: a `WebSocketServer` on its own port, every
 * message a `Buffer` sent back with its text/binary flag; broadcast is the loop over
 * `wss.clients` from the `ws` README (a `Set` of subscribers for the fan-out, which leaves the
 * publisher out). Modes: echo, chat, fanout; `ws` has no typed events. Node runs the bundle
 * that `install.ts` builds from this file.
 *
 * @module
 */

import { config, ready } from "../servers/_control.ts";
import { load } from "./_deps.ts";

interface Ws {
  send(data: unknown, options: { binary: boolean }): void;
  on(event: "message", fn: (data: unknown, isBinary: boolean) => void): void;
  on(event: "close", fn: () => void): void;
}
interface WebSocketServer {
  readonly clients: Set<Ws>;
  address(): { port: number };
  on(event: "listening", fn: () => void): void;
  on(event: "connection", fn: (ws: Ws, request: { url?: string }) => void): void;
}
interface WsModule {
  WebSocketServer: new (options: { host: string; port: number }) => WebSocketServer;
}

const { mode, port } = config();
if (mode === "session") throw new TypeError("Cannot serve: ws has no typed events");

const { WebSocketServer } = await load<WsModule>("ws");
const wss = new WebSocketServer({ host: "127.0.0.1", port });
const subscribers = new Set<Ws>();

wss.on("connection", (ws, request) => {
  if (mode === "echo") {
    ws.on("message", (data, binary) => ws.send(data, { binary }));
    return;
  }
  const room = mode === "chat" ? wss.clients : subscribers;
  const publisher = mode === "fanout" &&
    new URL(request.url ?? "/", "http://127.0.0.1").searchParams.has("pub");
  if (mode === "chat" || publisher) {
    ws.on("message", (data, binary) => {
      for (const member of room) member.send(data, { binary });
    });
  }
  if (mode === "fanout" && !publisher) {
    subscribers.add(ws);
    ws.on("close", () => subscribers.delete(ws));
  }
});
wss.on("listening", () => ready(wss.address().port));
