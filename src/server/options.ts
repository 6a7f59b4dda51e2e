/**
 * The options of an endpoint and of `serve()`, with their defaults, and the check of
 * `serve()`'s `tls`. A leaf: it imports only other type modules.
 *
 * @module
 */

import type { Awaitable } from "./types.ts";
import type { Relay } from "./relay.ts";

/** The application-level heartbeat that the server answers on its own. */
export interface HeartbeatOptions {
  /** The text message a client sends as a ping. */
  ping: string;
  /** The text message the server answers with. */
  pong: string;
}

/** Per-peer rate limit on incoming messages (a token bucket). */
export interface RateLimitOptions {
  /**
   * Sustained messages per second. Unlimited when left out.
   *
   * @default {Infinity}
   */
  messages?: number;
  /**
   * Sustained bytes per second (UTF-8 bytes for text). Unlimited when left out.
   *
   * @default {Infinity}
   */
  bytes?: number;
  /**
   * Milliseconds of budget the bucket holds, so short bursts above the rate pass.
   *
   * @default {1000}
   */
  burst?: number;
  /**
   * Over the limit, `"close"` closes the peer with 1008; `"drop"` drops the message, keeps
   * the peer and reports a `LimitError` to the `error` hook.
   *
   * @default {"close"}
   */
  policy?: "close" | "drop";
}

/** What happens to a peer that does not read what the server sends it. */
export interface BackpressureOptions {
  /**
   * Bytes that may wait in one peer's outbound queue.
   *
   * @default {4194304}
   */
  maxBytes?: number;
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
  maxPayloadBytes?: number;
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
   * one address can have the runtime assemble at once (see `maxPayloadBytes`).
   *
   * @default {Infinity}
   */
  maxConnectionsPerAddress?: number;
  /**
   * The request headers `peer.headers` keeps after the upgrade (the `upgrade` hook sees them
   * all either way), by name, or `"all"`. By default: `host`, `origin`, `user-agent`,
   * `cookie`, `authorization`, `accept-language`, `sec-websocket-protocol`,
   * `x-forwarded-for`, `x-forwarded-host`, `x-forwarded-proto`, `x-real-ip`. Keeping every
   * header costs each idle connection on Deno about 2 KiB more: reading them all makes Deno
   * keep a sorted copy on the request it holds for the connection's life.
   *
   * @default {["host","origin","user-agent","cookie","authorization","accept-language","sec-websocket-protocol","x-forwarded-for","x-forwarded-host","x-forwarded-proto","x-real-ip"]}
   */
  peerHeaders?: string[] | "all";
  /**
   * How long an accepted upgrade may take to open, in milliseconds. An upgrade whose client
   * went away before reading the `101` never opens on Deno (nor reports a close); past this
   * time it is given up and its place among `maxConnections` freed.
   *
   * @default {5000}
   */
  openTimeout?: number;
  /**
   * Milliseconds without any incoming traffic after which the runtime pings a peer and,
   * without an answer, closes it (the close hook sees 1006 "Idle timeout"). `0` disables it.
   * Both runtimes count in whole seconds (rounded), Bun in steps of 4 s with a minimum of 8 s.
   *
   * @default {30000}
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
  /**
   * Answer `GET` and `HEAD` of exactly `/wskit/client.js` with the browser build of wskit's
   * client (everything of `@wskit/wskit/client` and `@wskit/wskit/session-client`) as one ES
   * module, so that a page on the server's own port imports `SessionClient` from there with
   * no build step, as Socket.IO serves `/socket.io/socket.io.js`. The answer carries a strong
   * `ETag` and `cache-control: public, max-age=0, must-revalidate`: browsers revalidate it on
   * every load and get `304` while it is unchanged. It takes precedence over `fetch` for
   * that one path; `false` leaves the path to the application. A mounted handler answers it
   * from `handleUpgrade` for the requests routed there. Safe to leave on: the module is the
   * same public file for everyone (it says which wskit runs, as Socket.IO's does), and
   * nothing of the request is read but its method, path and `If-None-Match`.
   *
   * @default {true}
   */
  serveClient?: boolean;
  /**
   * permessage-deflate (RFC 7692), for clients that offer it (browsers and Bun's client do,
   * Deno's client does not). **Bun only**: Deno's WebSocket server has no compression, so on Deno
   * `createHandler()` throws an `Error` and `serve()` rejects with it for anything but
   * `false`. On, messages of at least `threshold` bytes (UTF-16 code units for text; 1024
   * with `true`) are sent compressed, smaller ones as they are, where compressing costs more
   * than it saves; a client that did not negotiate it gets every message as it is. Bun's
   * shared compressor and decompressor serve all connections and keep no context between
   * messages, so a connection holds no compression memory of its own; `maxPayloadBytes`
   * bounds a message after decompression (past it: 1009).
   *
   * @default {false}
   */
  compression?: boolean | { threshold?: number };
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
  /**
   * Serve `https:` and `wss:` with this certificate chain and private key, both given as PEM
   * text (the files' contents, not their paths); `server.url` then starts with `wss://`.
   * Both runtimes take unencrypted RSA, EC and PKCS#8 keys. `serve()` rejects with an
   * `Error` ("Cannot serve: ...", never quoting the key) for text that is not PEM, a missing
   * half, or a key the runtime refuses (one of another certificate, say). Left out, the
   * server speaks plain `http:` and `ws:` (behind a TLS-terminating proxy, see `trustProxy`
   * and `publicOrigins`).
   */
  tls?: {
    /** The certificate chain in PEM: the server's certificate first, then intermediates. */
    cert: string;
    /** The certificate's private key in PEM, unencrypted. */
    key: string;
  };
}

/** A PEM block of a certificate, and of an unencrypted private key (PKCS#8, RSA or EC). */
const PEM_CERT = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/;

/**
 * Checks the `tls` option of `serve()` before the runtime sees it, so that a wrong value
 * reads as what is wrong with it. The values are never echoed: one of them is a secret.
 *
 * @returns The certificate and key alone, or `undefined` without `tls`.
 * @throws {TypeError} "Cannot serve: tls.cert ..." for a missing, non-text or non-PEM half.
 */
export function checkTls(tls: unknown): { cert: string; key: string } | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError("Cannot serve: tls must be an object { cert, key } of PEM text");
  }
  const { cert, key } = tls as { cert?: unknown; key?: unknown };
  pemText("tls.cert", cert, PEM_CERT, "a PEM certificate (-----BEGIN CERTIFICATE-----)");
  pemText("tls.key", key, PEM_KEY, "an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
  return { cert: cert as string, key: key as string };
}

/**
 * The error `serve()` throws when the runtime refuses a certificate and key that passed
 * {@linkcode checkTls} (a key of another certificate, a damaged block).
 */
export function refusedTls(runtime: "Deno" | "Bun", cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message = /KeyMismatch|KEY_VALUES_MISMATCH/.test(reason)
    ? "tls.key is not the private key of tls.cert"
    : `${runtime} refused tls.cert or tls.key: ${reason}`;
  return new Error(`Cannot serve: ${message}`, { cause });
}

/** @throws {TypeError} When `value` is missing, not text, or holds no `marker`. */
function pemText(name: string, value: unknown, marker: RegExp, what: string): void {
  if (value === undefined || value === "") {
    throw new TypeError(`Cannot serve: ${name} is missing; TLS needs both tls.cert and tls.key`);
  }
  if (typeof value !== "string") {
    throw new TypeError(`Cannot serve: ${name} must be PEM text, got ${typeof value}`);
  }
  // A legacy encrypted key (Proc-Type: 4,ENCRYPTED) has the unencrypted marker.
  const encrypted = /ENCRYPTED PRIVATE KEY|Proc-Type:\s*4,ENCRYPTED/.test(value);
  if (marker.test(value) && !encrypted) return;
  const hint = !value.includes("-----BEGIN")
    ? " (pass the file's contents, not its path)"
    : encrypted
    ? " (it is encrypted: decrypt it with openssl pkey)"
    : "";
  throw new TypeError(`Cannot serve: ${name} is not ${what}${hint}`);
}
