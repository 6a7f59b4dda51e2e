/**
 * Socket.IO (4.8) on Node as a benchmark subject of the events scenario: a Node `http`
 * server with `new Server(http, { transports: ["websocket"] })`, and with
 * `--recovery` its connection state recovery on (each packet then goes through the adapter,
 * which keeps it for a resume and appends its offset). Every `ping` event is answered with a
 * `pong` event carrying the same payload. Mode: session only, for Socket.IO speaks engine.io
 * packets, never plain WebSocket messages. Node runs the bundle that `install.ts` builds from
 * this file.
 *
 * @module
 */

import { config, ready } from "../servers/_control.ts";
import { args } from "../../tests/_support/this_process.ts";
import { load } from "./_deps.ts";

interface HttpServer {
  address(): { port: number };
  listen(port: number, host: string, done: () => void): void;
}
interface Socket {
  on(event: string, fn: (data: unknown) => void): void;
  emit(event: string, data: unknown): void;
}
interface SocketIo {
  Server: new (http: HttpServer, options: Record<string, unknown>) => {
    on(event: "connection", fn: (socket: Socket) => void): void;
  };
}
interface NodeProcess {
  getBuiltinModule(id: "node:http"): { createServer(): HttpServer };
}

const { mode, port } = config();
if (mode !== "session") throw new TypeError(`Cannot serve ${mode}: Socket.IO speaks engine.io`);

const recovery = args().includes("--recovery");
const http = (globalThis as unknown as { process: NodeProcess }).process
  .getBuiltinModule("node:http").createServer();
const { Server } = await load<SocketIo>("socket.io");
const io = new Server(http, {
  transports: ["websocket"],
  // Socket.IO's documented defaults, written out.
  ...(recovery
    ? { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true } }
    : {}),
});
io.on("connection", (socket) => socket.on("ping", (d) => socket.emit("pong", d)));
http.listen(port, "127.0.0.1", () => ready(http.address().port));
