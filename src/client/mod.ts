/**
 * The reconnecting client: `ReconnectingWebSocket`, a drop-in `WebSocket` that reconnects by
 * itself, on Web standards only, so the same code runs in Deno, Bun and browsers. Nothing of
 * the server side of wskit is imported: a bundler that takes `@wskit/wskit/client` pulls in
 * the client alone.
 *
 * - backoff: exponential with full jitter on every attempt, reset only after a connection
 *   has stayed up for `minUptime`;
 * - a fresh URL and subprotocols per attempt from (async) providers;
 * - a bounded outbox for messages sent while down, flushed in order after the reconnect;
 * - an optional application-level heartbeat that detects half-open links;
 * - a close-code policy that tells "come back" from "do not come back", and attempts that
 *   say why they failed (a `ConnectError`), stopping on a failure that cannot succeed;
 * - typed state events and `for await` over messages.
 *
 * @example Reconnect to a chat, with a heartbeat the wskit server answers on its own
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/", undefined, { heartbeat: true });
 * ws.addEventListener("reconnect", (e) => console.log(`retry #${e.attempt} in ${e.delay} ms`));
 * ws.send("hello"); // queued until the connection opens
 * for await (const message of ws) console.log(message);
 * ```
 *
 * @module
 */

export { ReconnectingWebSocket, type ReconnectingWebSocketHandler } from "./reconnecting.ts";
export { TypedEventTarget, type TypedListener } from "./_typed_target.ts";
export {
  ClientCloseEvent,
  ConnectError,
  type ConnectErrorKind,
  type ConnectErrorOptions,
} from "./errors.ts";
export {
  ConnectingEvent,
  DropEvent,
  type DropReason,
  GiveUpEvent,
  type GiveUpReason,
  ReconnectEvent,
  type ReconnectingWebSocketEventMap,
} from "./events.ts";
export {
  backoffDelay,
  type BackoffOptions,
  type ClientHeartbeatOptions,
  type ClientSendStatus,
  defaultShouldReconnect,
  type IncomingData,
  type OutgoingData,
  type ProtocolsProvider,
  type ReconnectingWebSocketOptions,
  type UrlProvider,
} from "./options.ts";
