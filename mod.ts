/**
 * wskit: a WebSocket toolkit for Deno and Bun on Web standards. One server API over both
 * runtimes (hooks, peers, topics, limits, graceful shutdown), a reconnecting client for Deno,
 * Bun and browsers, sessions that lose nothing across reconnects, and relays that span
 * workers and machines.
 *
 * This module is the home of the server API (`serve()`, the hooks, the peer, the options)
 * and re-exports everything else that runs on any runtime, for convenience; each part also
 * has an entry point of its own (`./client`, `./protocol`, `./session`, `./session-client`,
 * `./broadcast-channel`, `./redis`), and the runtime handlers live in `./deno` and `./bun`.
 *
 * @example A chat in a dozen lines
 * ```ts
 * import { serve } from "@wskit/wskit";
 *
 * const server = await serve({
 *   open(peer) {
 *     peer.subscribe("chat");
 *     peer.publish("chat", `${peer.id} joined`);
 *   },
 *   message(peer, message) {
 *     peer.publish("chat", message, { self: true });
 *   },
 *   close(peer) {
 *     peer.publish("chat", `${peer.id} left`);
 *   },
 * }, { port: 8000 });
 * console.log(`chat on ${server.url}`);
 * ```
 *
 * @example A client that survives server restarts
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/", undefined, { heartbeat: true });
 * ws.send("hello"); // queued until open, and again whenever the link is down
 * for await (const message of ws) console.log(message);
 * ```
 *
 * @module
 */

// The server API: its home is this module.
export { serve } from "./src/serve.ts";
export { LimitError } from "./src/server/limits.ts";
export type {
  Awaitable,
  CloseDetails,
  Hooks,
  Message,
  Peer,
  PublishOptions,
  SendData,
  SendStatus,
  Server,
  UpgradeAccept,
  UpgradeInfo,
  UpgradeResult,
  WebSocketEndpoint,
} from "./src/server/types.ts";
export type {
  BackpressureOptions,
  EndpointOptions,
  HeartbeatOptions,
  RateLimitOptions,
  ServeOptions,
} from "./src/server/options.ts";
export type { LimitStats, ServerStats, TrafficStats } from "./src/server/stats.ts";
export { metrics, metricsText } from "./src/server/metrics.ts";
export type { MetricsOptions } from "./src/server/metrics.ts";
export type { Relay, RelayDeliver, RelayStats } from "./src/server/relay.ts";

// The rest, re-exported from their own entry points.
export * from "./src/client/mod.ts";
export * from "./src/session/protocol.ts";
export * from "./src/session/server.ts";
export * from "./src/session/client.ts";
export * from "./src/relay/broadcast_channel.ts";
export * from "./src/relay/redis.ts";
