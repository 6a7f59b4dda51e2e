/**
 * The bare Bun subject: `Bun.serve({ fetch, websocket })` with Bun's native topics, every
 * broadcast one `server.publish` (Bun's `chat-server.bun.js` does the same). This is the
 * ceiling wskit on Bun is measured against.
 *
 * @module
 */

import { config, ready } from "./_control.ts";

interface Ws {
  data: { pub: boolean };
  send(message: string | Uint8Array): number;
  subscribe(topic: string): void;
}
interface BunServer {
  port: number;
  upgrade(request: Request, options: { data: { pub: boolean } }): boolean;
  publish(topic: string, message: string | Uint8Array): number;
}
interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: {
      perMessageDeflate: boolean;
      open?(ws: Ws): void;
      message(ws: Ws, message: string | Uint8Array): void;
    };
  }): BunServer;
}

const Bun = (globalThis as unknown as { Bun: BunServe }).Bun;
const { mode, port } = config();

const echo = {
  perMessageDeflate: false,
  message(ws: Ws, message: string | Uint8Array) {
    ws.send(message);
  },
};

const room = {
  perMessageDeflate: false,
  open(ws: Ws) {
    if (!ws.data.pub) ws.subscribe("room");
  },
  message(_ws: Ws, message: string | Uint8Array) {
    server.publish("room", message);
  },
};

const server: BunServer = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch(request, server) {
    const pub = mode === "fanout" && new URL(request.url).searchParams.has("pub");
    if (server.upgrade(request, { data: { pub } })) return undefined;
    return new Response("Upgrade Required\n", { status: 426 });
  },
  websocket: mode === "echo" ? echo : room,
});

ready(server.port);
