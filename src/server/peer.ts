/**
 * `ServerPeer`: the one implementation of `Peer`, a server-side connection, the same object on
 * Deno and Bun.
 *
 * @module
 */

import type { SocketDriver } from "./driver.ts";
import type { Limits, Place, TokenBucket } from "./limits.ts";
import type { Counters } from "./_counters.ts";
import type { Peer, PublishOptions, SendData, SendStatus } from "./types.ts";

/** What the adapter knows about a connection when it creates its peer. */
export interface PeerInit<T> {
  data: T;
  /** The request URL, parsed on first use of `peer.url`. */
  url: string;
  /** The request's headers as `name:value` lines, made into `Headers` on first use. */
  headers: string;
  remoteAddress: string | undefined;
  protocol: string;
}

/** What a peer needs from the topic registry (the hub). */
export interface PeerTopics {
  /** Adds `peer` to `topic`. */
  // deno-lint-ignore no-explicit-any
  subscribe(peer: ServerPeer<any>, topic: string): void;
  /** Takes `peer` out of `topic`. */
  // deno-lint-ignore no-explicit-any
  unsubscribe(peer: ServerPeer<any>, topic: string): void;
  /** Takes a closed peer out of all its topics. */
  // deno-lint-ignore no-explicit-any
  remove(peer: ServerPeer<any>): void;
  /** Delivers to the subscribers of `topic` but `except`, here and through the relay. */
  // deno-lint-ignore no-explicit-any
  publish(topic: string, data: string | Uint8Array, except?: ServerPeer<any>): void;
}

/** What a peer needs from the endpoint that owns it. */
export interface PeerContext {
  /** Topic membership and fan-out. */
  readonly hub: PeerTopics;
  /** The endpoint's limits. */
  readonly limits: Limits;
  /** The endpoint's counters. */
  readonly counters: Counters;
  /** The runtime reports the peer's connection closed (runs the close hook once). */
  // deno-lint-ignore no-explicit-any
  closed(peer: ServerPeer<any>, code: number, reason: string): void;
  /** A limit closed the peer: the close hook runs now, the runtime reports the end later. */
  // deno-lint-ignore no-explicit-any
  aborted(peer: ServerPeer<any>, code: number, reason: string): void;
}

const encoder = new TextEncoder();

/**
 * Normalizes what users may pass to `send` into what sockets take: a string or a
 * `Uint8Array` view (no copy).
 *
 * @throws {TypeError} For anything that is neither text nor bytes.
 */
export function toFrame(data: SendData): string | Uint8Array {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  throw new TypeError(`Cannot send: expected a string or bytes, got ${describe(data)}`);
}

/**
 * Parses the request URL. The runtimes build it from the `Host` header, which a client may
 * fill with anything (`a b`, `[::1`, a port over 65535), and Bun then gives a bare path: the
 * path and query are kept under the host `invalid` rather than letting `peer.url` throw.
 */
function parseUrl(href: string): URL {
  try {
    return new URL(href);
  } catch { /* a hostile Host header */ }
  const scheme = href.indexOf("//");
  const start = href.startsWith("/") ? 0 : href.indexOf("/", scheme < 0 ? 0 : scheme + 2);
  const path = start < 0 ? "/" : href.slice(start);
  const url = new URL("http://invalid/");
  const query = path.indexOf("?");
  url.pathname = query < 0 ? path : path.slice(0, query);
  if (query >= 0) url.search = path.slice(query);
  return url;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

/**
 * Checks that a close code and reason can be put into a close frame.
 *
 * @throws {RangeError} When they cannot.
 */
export function checkClose(code: number, reason: string): void {
  const valid = Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999));
  if (!valid) {
    throw new RangeError(
      `Cannot close: code ${code} is not 1000-1003, 1007-1014 or 3000-4999`,
    );
  }
  if (reason.length > 41 && encoder.encode(reason).length > 123) {
    throw new RangeError("Cannot close: the reason is longer than 123 bytes of UTF-8");
  }
}

const NO_TOPICS: ReadonlySet<string> = new Set();

/** The state a peer is in, as `readyState` numbers. */
export const CONNECTING = 0;
/** Open: sends go out. */
export const OPEN = 1;
/** `close()` was called; waiting for the peer's close frame. */
export const CLOSING = 2;
/** Closed: the close hook has run or is running. */
export const CLOSED = 3;

/** The one implementation of {@linkcode Peer}, shared by both adapters. */
export class ServerPeer<T = unknown> implements Peer<T> {
  readonly id: string = crypto.randomUUID();
  data: T;
  /** The upgrade request's headers, as `name:value` lines until `headers` is first read. */
  #headerLines: string | undefined;
  #headers: Headers | undefined;
  readonly remoteAddress: string | undefined;
  readonly protocol: string;
  /** The rate limit's bucket, when the endpoint has a rate limit. */
  bucket: TokenBucket | undefined;
  /** The place among `maxConnections` this peer holds, set by the endpoint. */
  place: Place | undefined;
  #state: number = CONNECTING;
  #sentClose: { code: number; reason: string } | undefined;
  /** Made on first subscribe: most peers of some applications never subscribe. */
  #topics: Set<string> | undefined;
  #socket: SocketDriver;
  #hub: PeerTopics;
  #context: PeerContext;
  /** The request URL, parsed into #url on first use: most applications never read it. */
  #href: string;
  #url: URL | undefined;

  constructor(init: PeerInit<T>, socket: SocketDriver, context: PeerContext) {
    this.data = init.data;
    this.#href = init.url;
    this.#headerLines = init.headers;
    this.remoteAddress = init.remoteAddress;
    this.protocol = init.protocol;
    this.#socket = socket;
    this.#hub = context.hub;
    this.#context = context;
  }

  /** The upgrade request's headers: kept as one string, a `Headers` made on first use. */
  get headers(): Headers {
    if (!this.#headers) {
      const headers = new Headers();
      for (const line of this.#headerLines!.split("\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.append(line.slice(0, colon), line.slice(colon + 1));
      }
      this.#headers = headers;
      this.#headerLines = undefined;
    }
    return this.#headers;
  }

  get url(): URL {
    return this.#url ??= parseUrl(this.#href);
  }

  get readyState(): number {
    return this.#state;
  }

  get bufferedAmount(): number {
    return this.#state === CLOSED ? 0 : this.#socket.bufferedAmount;
  }

  get topics(): ReadonlySet<string> {
    return this.#topics ?? NO_TOPICS;
  }

  /** The adapter's socket, for the hub's native fan-out. */
  get socket(): SocketDriver {
    return this.#socket;
  }

  send(data: SendData): SendStatus {
    if (this.#state !== OPEN) return "dropped";
    const frame = toFrame(data);
    const socket = this.#socket;
    if (
      !socket.nativeBackpressure &&
      (socket.overLimit
        ? socket.overLimit(this.#context.limits.backpressureBytes)
        : socket.bufferedAmount > this.#context.limits.backpressureBytes)
    ) {
      return this.#overLimit();
    }
    const status = socket.send(frame);
    if (status !== "dropped") {
      const counters = this.#context.counters;
      counters.sentMessages++;
      counters.sentBytes += frame.length; // bytes, or UTF-16 code units: no scan of text
      return status;
    }
    // A runtime that enforces the limit itself reports "dropped" past it; under the close
    // policy it is dropping the connection too (Bun, without telling why: 1006).
    if (socket.nativeBackpressure && this.#context.limits.closeSlowPeers) return this.#overLimit();
    this.#context.counters.dropped++;
    return status;
  }

  #overLimit(): SendStatus {
    const context = this.#context;
    if (context.limits.closeSlowPeers) {
      context.counters.closed.backpressure++;
      this.abort(1013, "Backpressure limit exceeded");
    } else {
      context.counters.dropped++;
    }
    return "dropped";
  }

  /**
   * Closes now: sends the close frame if it can, and reports the peer closed at once instead
   * of waiting for the other side's close frame (a peer that does not read never sends one).
   */
  abort(code: number, reason: string): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSING;
    try {
      this.#socket.close(code, reason);
    } catch { /* the socket is already gone */ }
    this.#context.aborted(this, code, reason);
  }

  subscribe(topic: string): void {
    if (this.#state === CLOSED || this.#topics?.has(topic)) return;
    (this.#topics ??= new Set()).add(topic);
    this.#hub.subscribe(this, topic);
  }

  unsubscribe(topic: string): void {
    if (this.#state === CLOSED || !this.#topics?.delete(topic)) return;
    this.#hub.unsubscribe(this, topic);
  }

  publish(topic: string, data: SendData, options?: PublishOptions): void {
    this.#hub.publish(topic, toFrame(data), options?.self ? undefined : this);
  }

  close(code = 1000, reason = ""): void {
    checkClose(code, reason);
    if (this.#state >= CLOSING) return;
    this.#state = CLOSING;
    this.#sentClose = { code, reason };
    try {
      this.#socket.close(code, reason);
    } catch { /* the socket is already gone; the runtime reports the close */ }
  }

  /**
   * The close frame this side sent, if it started the closing handshake. When the runtime
   * then reports an abnormal end (Deno drops the connection if a data frame arrives after
   * its close frame), the close hook reports this code: the one the server chose.
   */
  get sentClose(): { code: number; reason: string } | undefined {
    return this.#sentClose;
  }

  terminate(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSING;
    try {
      this.#socket.terminate();
    } catch { /* the socket is already gone */ }
  }

  /** Marks the peer open; called by the core when the runtime reports the open. */
  markOpen(): void {
    if (this.#state === CONNECTING) this.#state = OPEN;
  }

  /**
   * Marks the peer closed and takes it out of the hub. `topics` keeps what it had, so that
   * the close hook can still tell its rooms that it left.
   *
   * @returns `false` when it was already closed.
   */
  markClosed(): boolean {
    if (this.#state === CLOSED) return false;
    this.#state = CLOSED;
    this.#hub.remove(this);
    return true;
  }
}
