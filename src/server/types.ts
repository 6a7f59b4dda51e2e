/**
 * The types applications write against: messages, the hooks, the peer, the endpoint and the
 * server handle. A leaf: it imports nothing of the implementation, and nothing here touches
 * a runtime.
 *
 * @module
 */

import type { ServerStats } from "./stats.ts";

/**
 * A message as the hooks receive it, the same on every runtime: text frames arrive as
 * `string`, binary frames as `Uint8Array` (never a Bun `Buffer`, `Blob` or bare `ArrayBuffer`).
 */
export type Message = string | Uint8Array;

/** What `send` and `publish` accept: text, or bytes in any buffer form. */
export type SendData = string | ArrayBuffer | ArrayBufferView;

/**
 * What happened to one `send`:
 * - `"sent"`: handed to the runtime's socket;
 * - `"queued"`: accepted, but the socket is over its backpressure mark (wait for `drain`);
 * - `"dropped"`: not sent, because the peer is not open or its outbound limit is exceeded.
 */
export type SendStatus = "sent" | "queued" | "dropped";

/** The code and reason of a closed connection, exactly as the close frame carried them. */
export interface CloseDetails {
  /** Close code: 1000 normal, 1001 going away, 1006 closed without a close frame, ... */
  code: number;
  /** Close reason, possibly empty. */
  reason: string;
}

/** What is known about an upgrade request besides the `Request` itself. */
export interface UpgradeInfo {
  /** The client's IP address, when the runtime reports it. */
  remoteAddress: string | undefined;
  /** Subprotocols the client offered in `Sec-WebSocket-Protocol`, in its order. */
  protocols: string[];
}

/**
 * The upgrade hook's way of accepting a connection.
 *
 * @typeParam T The per-connection data type.
 */
export interface UpgradeAccept<T> {
  /** Per-connection data, available as `peer.data` in every later hook. */
  data?: T;
  /**
   * Extra headers for the `101 Switching Protocols` response (cookies, for instance): a
   * `Headers`, name-value pairs, or an object (Deno's `HeadersInit`, written out, since Bun's
   * types have no such name).
   */
  headers?: Headers | Iterable<string[]> | Record<string, string>;
  /**
   * The subprotocol to speak, one of those the client offered. Left out, it is the first one
   * the client offered (as with `ws`), because browsers and Bun's client fail a connection
   * whose server chose none of their offers. `""` chooses none: no `Sec-WebSocket-Protocol`
   * header is sent, and the server warns once if the client had offered some.
   *
   * @default {the first offered subprotocol, or "" when none was offered}
   */
  protocol?: string;
}

/**
 * What the upgrade hook may return: an {@linkcode UpgradeAccept} (or nothing) to accept, or a
 * `Response` to refuse with that response. Throwing a `Response` refuses as well.
 */
export type UpgradeResult<T> = UpgradeAccept<T> | Response | undefined | void;

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/**
 * Lifecycle hooks of a WebSocket endpoint. Every hook is optional.
 *
 * A hook that throws or returns a rejected promise does not take the server down: the error
 * goes to the `error` hook (or to the console without one) and that peer is closed with 1011.
 *
 * @typeParam T The per-connection data type, set by the `upgrade` hook.
 */
export interface Hooks<T = unknown> {
  /**
   * Decides whether to accept an upgrade request. Return nothing to accept with no data,
   * an {@linkcode UpgradeAccept} to accept with data, headers or a subprotocol, or a
   * `Response` to refuse (for example `new Response("Unauthorized", { status: 401 })`).
   */
  upgrade?(request: Request, info: UpgradeInfo): Awaitable<UpgradeResult<T>>;
  /** Called once the connection is open. */
  open?(peer: Peer<T>): Awaitable<void>;
  /** Called for every application message, in arrival order. */
  message?(peer: Peer<T>, message: Message): Awaitable<void>;
  /** Called exactly once per opened peer, when its connection has closed. */
  close?(peer: Peer<T>, details: CloseDetails): Awaitable<void>;
  /**
   * Called with an error thrown by another hook. `peer` is `null` when the failure came from
   * the `upgrade` hook, before a peer existed.
   */
  error?(peer: Peer<T> | null, error: unknown): Awaitable<void>;
  /**
   * Called when a peer whose sends were queued has flushed its outbound buffer. Native on
   * Bun; on Deno the adapter polls the socket's `bufferedAmount` after a queued send.
   */
  drain?(peer: Peer<T>): Awaitable<void>;
  /**
   * Called once when the endpoint is created, with the endpoint itself: a handle for hooks
   * that publish on their own (the session layer uses it).
   */
  start?(endpoint: WebSocketEndpoint<T>): void;
  /** Called once when `close()` has closed every peer, before it resolves. */
  stop?(): Awaitable<void>;
  /**
   * Called for each publish that arrives from another instance through the relay, before
   * the local fan-out; return `true` when the hook has handled it (the session layer uses
   * this for its own messages).
   */
  relayed?(topic: string, data: string | Uint8Array): boolean;
  /**
   * Called when the relay's link to the other instances is back after an outage: what they
   * published meanwhile reached nobody here (the session layer then tells its clients where
   * each room stands, and they fill the gap from the store).
   */
  relayRestored?(): void;
}

/** Options of {@linkcode Peer.publish}. */
export interface PublishOptions {
  /**
   * Deliver to the publishing peer as well, if it is subscribed to the topic.
   *
   * @default {false}
   */
  self?: boolean;
}

/**
 * One WebSocket connection as the hooks see it.
 *
 * @typeParam T The per-connection data type, set by the `upgrade` hook.
 */
export interface Peer<T = unknown> {
  /** A unique, stable id (a random UUID). */
  readonly id: string;
  /** Per-connection data from the `upgrade` hook; the application may replace it. */
  data: T;
  /** The URL of the upgrade request. */
  readonly url: URL;
  /**
   * Headers of the upgrade request: those named in the endpoint's `peerHeaders` (by default
   * a common few, such as `cookie`, `user-agent` and `origin`), or all with `"all"`.
   */
  readonly headers: Headers;
  /** The client's IP address, when the runtime reports it. */
  readonly remoteAddress: string | undefined;
  /** The negotiated subprotocol, or `""`. */
  readonly protocol: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed (the `WebSocket` constants). */
  readonly readyState: number;
  /** Bytes accepted by `send` that the runtime has not written to the network yet. */
  readonly bufferedAmount: number;
  /** The topics this peer is subscribed to. */
  readonly topics: ReadonlySet<string>;
  /**
   * Sends one message: a string as a text frame, bytes as a binary frame.
   *
   * @returns What happened to the message; see {@linkcode SendStatus}.
   */
  send(data: SendData): SendStatus;
  /** Subscribes to `topic`; a no-op when already subscribed. */
  subscribe(topic: string): void;
  /** Unsubscribes from `topic`; a no-op when not subscribed. */
  unsubscribe(topic: string): void;
  /** Sends `data` to every subscriber of `topic` except this peer (unless `self: true`). */
  publish(topic: string, data: SendData, options?: PublishOptions): void;
  /**
   * Starts the closing handshake.
   *
   * @param code 1000 (the default), 1001-1003, 1007-1014 or 3000-4999.
   * @param reason At most 123 bytes of UTF-8.
   * @throws {RangeError} When the code or reason cannot go into a close frame.
   */
  close(code?: number, reason?: string): void;
  /** Drops the connection at once, without a closing handshake. */
  terminate(): void;
}

/**
 * What `serve()` and the mountable handlers have in common: the open peers, topics and a
 * graceful shutdown.
 *
 * @typeParam T The per-connection data type.
 */
export interface WebSocketEndpoint<T = unknown> {
  /** The open peers, by id. */
  readonly peers: ReadonlyMap<string, Peer<T>>;
  /** A snapshot of the endpoint's counters. */
  stats(): ServerStats;
  /**
   * Sends `data` to every subscriber of `topic`, on every instance when there is a relay.
   *
   * @param options `local: true` leaves the relay out.
   */
  publish(topic: string, data: SendData, options?: { local?: boolean }): void;
  /**
   * Stops accepting upgrades (new ones get `503`), closes every peer with `code` and
   * resolves once every peer's `close` hook has run.
   */
  close(code?: number, reason?: string): Promise<void>;
}

/**
 * A running server, as returned by `serve()`.
 *
 * @typeParam T The per-connection data type.
 */
export interface Server<T = unknown> extends WebSocketEndpoint<T> {
  /** The WebSocket URL clients connect to, such as `ws://127.0.0.1:8000/` (`wss://` with `tls`). */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;
  /** The interface the server listens on. */
  readonly hostname: string;
  /** Resolves once the server has stopped listening. */
  readonly finished: Promise<void>;
}
