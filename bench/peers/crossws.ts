/**
 * crossws (0.4) as a benchmark subject, one file for Deno and Bun as its documentation sets
 * it up: `crossws/adapters/deno` with `ws.handleUpgrade(request, info)` in `Deno.serve`, and
 * `crossws/adapters/bun` with `Bun.serve({ websocket: ws.websocket, fetch: (request, server)
 * => ws.handleUpgrade(request, server) })`. Rooms are crossws topics (`peer.subscribe`,
 * `peer.publish`, which leaves the sender out: the chat sends to it too). Modes: echo, chat,
 * fanout; crossws has no typed events.
 *
 * @module
 */

import { config } from "../servers/_control.ts";
import { load } from "./_deps.ts";
import { type Fetch, listen, onBun } from "./_listen.ts";

interface Peer {
  readonly request: Request;
  send(data: string): unknown;
  subscribe(topic: string): void;
  publish(topic: string, data: string): void;
}
interface Message {
  text(): string;
}
interface Hooks {
  open?(peer: Peer): void;
  message(peer: Peer, message: Message): void;
}
interface Adapter {
  handleUpgrade: Fetch;
  websocket?: unknown;
}

const { mode, port } = config();
if (mode === "session") throw new TypeError("Cannot serve: crossws has no typed events");

const hooks: Record<"echo" | "chat" | "fanout", Hooks> = {
  echo: {
    message(peer, message) {
      peer.send(message.text());
    },
  },
  chat: {
    open(peer) {
      peer.subscribe("room");
    },
    message(peer, message) {
      const text = message.text();
      peer.send(text);
      peer.publish("room", text);
    },
  },
  fanout: {
    open(peer) {
      if (!new URL(peer.request.url).searchParams.has("pub")) peer.subscribe("room");
    },
    message(peer, message) {
      peer.publish("room", message.text());
    },
  },
};

const adapter = await load<{ default: (options: { hooks: Hooks }) => Adapter }>(
  onBun ? "crossws/adapters/bun" : "crossws/adapters/deno",
);
const ws = adapter.default({ hooks: hooks[mode] });
listen(port, (request, second) => ws.handleUpgrade(request, second), ws.websocket);
