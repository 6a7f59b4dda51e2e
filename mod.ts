/**
 * wskit: a WebSocket toolkit for Deno and Bun on Web standards. One server API over both
 * runtimes (hooks, peers, topics, graceful shutdown).
 *
 * @example A chat in a dozen lines
 * ```ts ignore
 * import { serve } from "jsr:@wskit/wskit";
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
 * @module
 */

export { serve } from "./src/server.ts";
export { LimitError } from "./src/limits.ts";
export type {
  Awaitable,
  BackpressureOptions,
  CloseDetails,
  EndpointOptions,
  HeartbeatOptions,
  Hooks,
  LimitStats,
  Message,
  RateLimitOptions,
  SendData,
  SendStatus,
  ServeOptions,
  Server,
  ServerStats,
  UpgradeAccept,
  UpgradeInfo,
  UpgradeResult,
  WebSocketEndpoint,
} from "./src/hooks.ts";
export type { Peer, PublishOptions } from "./src/peer.ts";
