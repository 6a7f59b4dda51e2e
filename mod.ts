/**
 * wskit: a WebSocket toolkit for Deno and Bun on Web standards. One server API over both
 * runtimes (hooks, peers, topics, graceful shutdown), and a reconnecting client for Deno, Bun
 * and browsers (also on its own as `@wskit/wskit/client`, which pulls in no server code).
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
 * @example A client that survives server restarts
 * ```ts ignore
 * import { ReconnectingWebSocket } from "jsr:@wskit/wskit";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/", undefined, { heartbeat: true });
 * ws.send("hello"); // queued until open, and again whenever the link is down
 * for await (const message of ws) console.log(message);
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
export type { OutageOptions, Relay, RelayDeliver, RelayStats } from "./src/relay.ts";
export { BroadcastChannelRelay } from "./src/relay/broadcast_channel.ts";
export {
  backoffDelay,
  ConnectingEvent,
  defaultShouldReconnect,
  DropEvent,
  GiveUpEvent,
  ReconnectEvent,
  ReconnectingWebSocket,
} from "./src/client.ts";
export type {
  BackoffOptions,
  ClientHeartbeatOptions,
  ClientSendStatus,
  DropReason,
  GiveUpReason,
  IncomingData,
  OutgoingData,
  ProtocolsProvider,
  ReconnectingWebSocketEventMap,
  ReconnectingWebSocketHandler,
  ReconnectingWebSocketListener,
  ReconnectingWebSocketOptions,
  UrlProvider,
} from "./src/client.ts";
export { MemoryStore, sessions } from "./src/session_server.ts";
export type {
  EndReason,
  EventHandlers,
  LogWindow,
  Maybe,
  RequestHandlers,
  Session,
  SessionOptions,
  SessionPublishOptions,
  SessionServer,
  SessionStats,
  SessionStore,
} from "./src/session_server.ts";
export {
  RemoteError,
  ResyncEvent,
  SessionClient,
  SessionDropEvent,
  SessionOpenEvent,
} from "./src/session_client.ts";
export type {
  AnyProtocol,
  ErrorBody,
  EventName,
  Position,
  Protocol,
  RequestOptions,
  RequestShape,
  ResyncReason,
  SessionClientEventMap,
  SessionClientOptions,
  Unconfirmed,
} from "./src/session_client.ts";
