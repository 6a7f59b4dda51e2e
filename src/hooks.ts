/**
 * The hook and option types that applications write against. Nothing here touches a runtime.
 *
 * @module
 */

import type { Peer } from "./peer.ts";
import type { Relay, RelayStats } from "./relay.ts";

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
  /** Extra headers for the `101 Switching Protocols` response (cookies, for instance). */
  headers?: HeadersInit;
  /**
   * The subprotocol to speak, one of those the client offered. When left out (or `""`), no
   * `Sec-WebSocket-Protocol` header is sent, whatever the client offered.
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

/** The application-level heartbeat that the server answers on its own. */
export interface HeartbeatOptions {
  /** The text message a client sends as a ping. */
  ping: string;
  /** The text message the server answers with. */
  pong: string;
}

/** Per-peer rate limit on incoming messages (a token bucket). */
export interface RateLimitOptions {
  /** Sustained messages per second. Unlimited when left out. */
  messages?: number;
  /** Sustained bytes per second (UTF-8 bytes for text). Unlimited when left out. */
  bytes?: number;
  /**
   * Seconds of budget the bucket holds, so short bursts above the rate pass.
   *
   * @default {1}
   */
  burst?: number;
  /**
   * Over the limit, `"close"` closes the peer with 1008; `"refuse"` drops the message, keeps
   * the peer and reports a `LimitError` to the `error` hook.
   *
   * @default {"close"}
   */
  policy?: "close" | "refuse";
}

/** What happens to a peer that does not read what the server sends it. */
export interface BackpressureOptions {
  /**
   * Bytes that may wait in one peer's outbound queue.
   *
   * @default {4194304}
   */
  limit?: number;
  /**
   * Past the limit, `"close"` drops the peer, so that it reconnects and knows it missed
   * something: the close hook sees 1013 Try Again Later and `stats().closed.backpressure`
   * counts it (on Bun a peer that overflows during a topic publish is dropped by Bun itself:
   * 1006, uncounted). `"drop"` skips the messages it cannot take and counts them in
   * `stats().dropped`.
   *
   * @default {"close"}
   */
  policy?: "drop" | "close";
}

/** Options shared by `serve()` and the mountable handlers. */
export interface EndpointOptions {
  /**
   * Origins whose browser pages may connect, as full origins (`"https://example.com"`), `"*"`
   * for any, or a function deciding for each; given, it decides alone. A request without
   * `Origin` (not a browser) is always accepted. Refusal is `403` with a reason.
   *
   * By default only pages of the server's own origin may connect: the `Origin` must equal one
   * of {@linkcode EndpointOptions.publicOrigins}, or else match the request itself in scheme
   * (`http`/`ws` or `https`/`wss`), host and port, where the request's scheme is that of its
   * connection and its host the `Host` header (or `X-Forwarded-Proto` and `X-Forwarded-Host`
   * from a proxy named in {@linkcode EndpointOptions.trustProxy}). A connection from a
   * loopback address (so every connection to a server listening on 127.0.0.1, ::1 or
   * localhost) must name a loopback host as well, unless it comes from a trusted proxy.
   *
   * What the default protects against: a page of another site opening a socket with the
   * visitor's cookies (cross-site WebSocket hijacking), and DNS rebinding against a server on
   * the loopback interface (the page's `Host` and `Origin` then name the attacker's domain).
   * What it does not: clients other than browsers, which send any `Origin` they like (use the
   * `upgrade` hook to authenticate); DNS rebinding against a server reached on another
   * address (a LAN or public IP) unless `publicOrigins` names the origins it is served at;
   * pages of another origin on the same host and port.
   */
  origins?: string[] | ((origin: string, request: Request) => boolean);
  /**
   * The origins the server is reached at by browsers (`["https://chat.example"]`), for the
   * default origin check: a page of one of them may connect whatever the `Host` header says.
   * Name them when the server is behind a proxy or reached at a LAN or public address.
   *
   * @default {[]}
   */
  publicOrigins?: string[];
  /**
   * Which peers are proxies whose `X-Forwarded-Proto`, `X-Forwarded-Host` and
   * `X-Forwarded-For` headers are believed: `true` for any, a list of their IP addresses, or
   * a function deciding by the remote address. Other peers' forwarding headers are ignored.
   *
   * @default {false}
   */
  trustProxy?: boolean | string[] | ((address: string) => boolean);
  /**
   * The largest message accepted, in bytes; a larger one closes its peer with 1009.
   *
   * What it bounds differs by runtime. Bun refuses the message as its frames arrive, holding
   * little of it. Deno assembles the whole message before wskit sees it, holding about twice
   * its size meanwhile: a single frame is capped by Deno at 64 MiB (so up to about 128 MiB per
   * connection), but a message sent in fragments has no bound at all in Deno 2.9. On Deno,
   * bound how many connections one address can use with
   * {@linkcode EndpointOptions.maxConnectionsPerAddress}; where a single hostile connection
   * must not be able to exhaust memory, run the server on Bun.
   *
   * @default {4194304}
   */
  maxPayload?: number;
  /**
   * Open (and opening) connections the endpoint holds; past it upgrades get `503`.
   *
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * Open and opening connections from one client address; past it that address gets `503`.
   * The address is the remote address, or the client named in `X-Forwarded-For` by a proxy in
   * {@linkcode EndpointOptions.trustProxy}. Unlimited by default, because behind a proxy
   * every connection comes from the proxy's address. On Deno it also bounds how many messages
   * one address can have the runtime assemble at once (see `maxPayload`).
   *
   * @default {Infinity}
   */
  maxConnectionsPerAddress?: number;
  /**
   * How long an accepted upgrade may take to open, in milliseconds. An upgrade whose client
   * went away before reading the `101` never opens on Deno (nor reports a close); past this
   * time it is given up and its place among `maxConnections` freed.
   *
   * @default {5000}
   */
  openTimeout?: number;
  /**
   * Seconds without any incoming traffic after which the runtime pings a peer and, without an
   * answer, closes it (the close hook sees 1006 "Idle timeout"). `0` disables it. Bun counts
   * in steps of 4 s with a minimum of 8 s.
   *
   * @default {30}
   */
  idleTimeout?: number;
  /** Per-peer rate limit on incoming messages; none by default. */
  rateLimit?: RateLimitOptions;
  /** Per-peer outbound limit and what to do past it. */
  backpressure?: BackpressureOptions;
  /**
   * Carries publishes to the other instances of the application (other workers, processes,
   * machines) and theirs to this one's subscribers; closed with the endpoint.
   */
  relay?: Relay;
  /**
   * The application-level heartbeat the server answers before the `message` hook would see
   * it, or `false` to hand every message to the application.
   *
   * @default {{ ping: "wskit:ping", pong: "wskit:pong" }}
   */
  heartbeat?: HeartbeatOptions | false;
  /**
   * How long `close()` waits for peers to finish the closing handshake before it drops the
   * remaining connections, in milliseconds.
   *
   * @default {3000}
   */
  closeTimeout?: number;
}

/** Options of `serve()`. */
export interface ServeOptions extends EndpointOptions {
  /**
   * TCP port to listen on; `0` picks a free one (read it from the returned `port`).
   *
   * @default {8000}
   */
  port?: number;
  /**
   * Interface to listen on. Use `"0.0.0.0"` to accept connections from other machines.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Answers plain HTTP requests (a page, a health check) on the same port. Without it a
   * plain request gets `426 Upgrade Required`.
   */
  fetch?: (request: Request) => Awaitable<Response>;
  /**
   * Let several servers (workers, processes) listen on the same port, the kernel spreading
   * connections among them (`SO_REUSEPORT`, Linux). With a relay they then share topics.
   * Deno needs `--unstable-net` for it; `deno serve --parallel` is Deno's stable way.
   *
   * @default {false}
   */
  reusePort?: boolean;
}

/** What the limits have done since the endpoint started. */
export interface LimitStats {
  /** Messages not sent to a peer over its backpressure limit (policy `"drop"`). */
  dropped: number;
  /** Peers closed by a limit or a protocol error, by cause. */
  closed: {
    backpressure: number;
    rateLimit: number;
    tooBig: number;
    idle: number;
    protocol: number;
    /** Accepted upgrades given up because they did not open within `openTimeout`. */
    openTimeout: number;
  };
  /**
   * Upgrades (origin, capacity, per-address limit, malformed) and messages (rate limit)
   * refused.
   */
  refused: {
    origin: number;
    capacity: number;
    address: number;
    malformed: number;
    rateLimit: number;
  };
}

/** Counters and gauges of an endpoint, as `stats()` reports them. */
export interface ServerStats extends LimitStats {
  /** Open connections. */
  peers: number;
  /** Topics with at least one local subscriber. */
  topics: number;
  /** Local subscribers per topic. */
  subscribers: Record<string, number>;
  /** Bytes queued for sending that the runtime has not written yet, over all peers. */
  queuedBytes: number;
  /** Peers whose outbound queue is over the backpressure limit right now. */
  slowPeers: number;
  /** Accepted upgrades that have not opened yet. */
  pending: number;
  /**
   * Connections closed by a limit whose runtime has not reported the end yet (on Deno a
   * client that never answers the close frame keeps its connection); they count against
   * `maxConnections`.
   */
  closing: number;
  /** The relay's health and counters, when there is a relay. */
  relay?: RelayStats;
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
  /** The WebSocket URL clients connect to, such as `ws://127.0.0.1:8000/`. */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;
  /** The interface the server listens on. */
  readonly hostname: string;
  /** Resolves once the server has stopped listening. */
  readonly finished: Promise<void>;
}
