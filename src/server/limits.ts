/**
 * The protective limits of an endpoint: their defaults, the origin check, the places of
 * `maxConnections` and the per-peer token bucket. Runtime-neutral.
 *
 * @module
 */

import { checkNumber } from "../_check.ts";
import { utf8Length } from "../_utf8.ts";
import {
  clientAddress,
  isLoopbackHost,
  proxyTrust,
  refuse,
  sameOrigin,
  webOrigin,
} from "./handshake.ts";
import type { EndpointOptions } from "./options.ts";
import type { LimitStats } from "./stats.ts";

/** Default largest message accepted, in bytes (4 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Default most open connections per endpoint. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default idle timeout, in ms: Deno's own default, and below common proxy timeouts. */
export const DEFAULT_IDLE_TIMEOUT = 30_000;
/** Default time an accepted upgrade may take to open, in milliseconds. */
export const DEFAULT_OPEN_TIMEOUT = 5000;
/** The request headers `peer.headers` keeps by default. */
export const DEFAULT_PEER_HEADERS: readonly string[] = [
  "host",
  "origin",
  "user-agent",
  "cookie",
  "authorization",
  "accept-language",
  "sec-websocket-protocol",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
];
/** Default per-peer outbound queue limit, in bytes (4 MiB). */
export const DEFAULT_BACKPRESSURE_BYTES = 4 * 1024 * 1024;

/**
 * An error raised by a limit, carrying the close code that goes with it.
 *
 * @example Tell a refused message from a failing hook
 * ```ts
 * import { LimitError, serve } from "@wskit/wskit";
 *
 * await serve({
 *   error(peer, error) {
 *     if (error instanceof LimitError) console.warn(`${peer?.id}: ${error.message} (${error.code})`);
 *     else console.error(error);
 *   },
 * }, { port: 8000, rateLimit: { messages: 20, policy: "drop" } });
 * ```
 */
export class LimitError extends Error {
  /** The WebSocket close code for this limit (1008 policy, 1009 too big, 1013 try later). */
  readonly code: number;

  /**
   * Creates a limit error.
   *
   * @param message What was refused, "Cannot <action>: <state>".
   * @param code The close code that goes with it.
   */
  constructor(message: string, code: number) {
    super(message);
    this.name = "LimitError";
    this.code = code;
  }
}

/** The limits of one endpoint, with every default applied. */
export interface Limits {
  maxPayloadBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  openTimeout: number;
  /** Milliseconds; 0 for none. */
  idleTimeout: number;
  backpressureBytes: number;
  closeSlowPeers: boolean;
  /** `burst` in seconds here (milliseconds in the options). */
  rate: { messages: number; bytes: number; burst: number; close: boolean } | undefined;
  origin: (origin: string, request: Request, remoteAddress: string | undefined) => boolean;
  /** The header names `peer.headers` keeps, lower case; `undefined` for all. */
  peerHeaders: readonly string[] | undefined;
  /** The address a client is counted under for `maxConnectionsPerAddress`. */
  clientAddress: (request: Request, remoteAddress: string | undefined) => string | undefined;
}

/**
 * Applies the documented defaults to the options and checks them.
 *
 * @param options The endpoint's options; `hostname` is where `serve()` listens, if known.
 * @throws {RangeError} For a limit that is not a positive number.
 * @throws {TypeError} For an origin that is not a URL origin.
 */
export function resolveLimits(options: EndpointOptions & { hostname?: string }): Limits {
  const rate = options.rateLimit;
  const bp = options.backpressure ?? {};
  const trusted = proxyTrust(options.trustProxy);
  const perAddress = checkNumber(
    "maxConnectionsPerAddress",
    options.maxConnectionsPerAddress,
    Infinity,
    { infinite: true },
  );
  return {
    maxPayloadBytes: checkNumber(
      "maxPayloadBytes",
      options.maxPayloadBytes,
      DEFAULT_MAX_PAYLOAD_BYTES,
    ),
    maxConnections: checkNumber("maxConnections", options.maxConnections, DEFAULT_MAX_CONNECTIONS),
    maxConnectionsPerAddress: perAddress,
    openTimeout: checkNumber("openTimeout", options.openTimeout, DEFAULT_OPEN_TIMEOUT),
    idleTimeout: checkNumber("idleTimeout", options.idleTimeout, DEFAULT_IDLE_TIMEOUT, {
      zero: true,
    }),
    backpressureBytes: checkNumber(
      "backpressure.maxBytes",
      bp.maxBytes,
      DEFAULT_BACKPRESSURE_BYTES,
    ),
    closeSlowPeers: (bp.policy ?? "close") === "close",
    rate: rate
      ? {
        messages: checkNumber("rateLimit.messages", rate.messages, Infinity, { infinite: true }),
        bytes: checkNumber("rateLimit.bytes", rate.bytes, Infinity, { infinite: true }),
        burst: checkNumber("rateLimit.burst", rate.burst, 1000) / 1000,
        close: (rate.policy ?? "close") === "close",
      }
      : undefined,
    peerHeaders: headerNames(options.peerHeaders),
    origin: originCheck(options, trusted),
    clientAddress: perAddress === Infinity
      ? () => undefined
      : (request, remote) => clientAddress(request, remote, trusted),
  };
}

/**
 * Checks `peerHeaders`.
 *
 * @throws {TypeError} When it is neither `"all"` nor a list of header names.
 */
function headerNames(names: EndpointOptions["peerHeaders"]): readonly string[] | undefined {
  if (names === undefined) return DEFAULT_PEER_HEADERS;
  if (names === "all") return undefined;
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string" && n !== "")) {
    throw new TypeError(`Cannot configure peerHeaders: expected "all" or header names`);
  }
  return names.map((n) => n.toLowerCase());
}

function originCheck(
  options: EndpointOptions & { hostname?: string },
  trusted: (address: string | undefined) => boolean,
): Limits["origin"] {
  const origins = options.origins;
  if (typeof origins === "function") return origins;
  if (origins === undefined) {
    return sameOrigin({
      publicOrigins: new Set(urlOrigins("use public origin", options.publicOrigins ?? [])),
      trusted,
      loopbackListener: options.hostname !== undefined && isLoopbackHost(options.hostname),
    });
  }
  if (origins.includes("*")) return () => true;
  const allowed = new Set(urlOrigins("allow origin", origins, false));
  return (origin) => allowed.has(origin.toLowerCase());
}

/**
 * Checks and normalizes configured origins.
 *
 * @throws {TypeError} For one that is not a URL origin.
 */
function urlOrigins(what: string, origins: string[], web = true): string[] {
  return origins.map((o) => {
    let origin: string | undefined;
    try {
      origin = web ? webOrigin(o) : new URL(o).origin;
    } catch { /* reported below */ }
    if (origin === undefined || origin === "null") {
      throw new TypeError(`Cannot ${what} "${o}": it is not a URL such as https://example.com`);
    }
    return origin;
  });
}

/** A place among `maxConnections`, held from an upgrade's acceptance to the connection's end. */
export interface Place {
  /** The client address it counts under, when addresses are counted. */
  readonly address: string | undefined;
  released: boolean;
}

/**
 * Who holds the places of `maxConnections` and `maxConnectionsPerAddress`: upgrades on their
 * way, pending and open peers, and peers closed by a limit whose connection the runtime still
 * holds. A place is taken synchronously after the last check, so that concurrent upgrades
 * cannot overfill the endpoint. Pending peers are given up after `openTimeout`.
 */
export class Places<P extends { place: Place | undefined }> {
  #limits: Limits;
  #counters: LimitStats;
  #unopened: (peer: P) => void;
  #held = 0;
  #byAddress = new Map<string, number>();
  /** Peers not open yet, with the timer that gives them up. */
  #pending = new Map<P, ReturnType<typeof setTimeout>>();
  /** Peers closed by a limit whose connection the runtime has not reported ended. */
  #aborted = new Set<P>();

  /**
   * @param limits The endpoint's limits.
   * @param counters The endpoint's counters.
   * @param unopened Called for a pending peer when its `openTimeout` has passed.
   */
  constructor(limits: Limits, counters: LimitStats, unopened: (peer: P) => void) {
    this.#limits = limits;
    this.#counters = counters;
    this.#unopened = unopened;
  }

  /** Places held. */
  get held(): number {
    return this.#held;
  }

  /** Whether no connection holds a place, bar those closed by a limit. */
  get idle(): boolean {
    return this.#held === this.#aborted.size;
  }

  /** Peers closed by a limit that the runtime still holds. */
  get closing(): number {
    return this.#aborted.size;
  }

  /** Pending peers, for shutdown. */
  get pending(): P[] {
    return [...this.#pending.keys()];
  }

  /** The `503` for a client at `address` when there is no place for it, counted. */
  refusal(address: string | undefined): Response | undefined {
    const { maxConnections, maxConnectionsPerAddress } = this.#limits;
    let reason;
    if (this.#held >= maxConnections) {
      this.#counters.refused.capacity++;
      reason = `the server holds its maximum of ${maxConnections} connections`;
    } else if (
      address !== undefined && (this.#byAddress.get(address) ?? 0) >= maxConnectionsPerAddress
    ) {
      this.#counters.refused.address++;
      reason = `this address holds its maximum of ${maxConnectionsPerAddress} connections`;
    } else return undefined;
    return refuse(503, `Service Unavailable: ${reason}`);
  }

  /** Takes a place; check {@linkcode Places.refusal} first. */
  take(address: string | undefined): Place {
    this.#held++;
    if (address !== undefined) {
      this.#byAddress.set(address, (this.#byAddress.get(address) ?? 0) + 1);
    }
    return { address, released: false };
  }

  /** Gives a place back; a second release of the same place does nothing. */
  release(place: Place): void {
    if (place.released) return;
    place.released = true;
    this.#held--;
    const address = place.address;
    if (address === undefined) return;
    const n = this.#byAddress.get(address)! - 1;
    if (n === 0) this.#byAddress.delete(address);
    else this.#byAddress.set(address, n);
  }

  /** A new peer waits for its open, `openTimeout` at most. */
  pend(peer: P): void {
    this.#pending.set(peer, setTimeout(() => this.#unopened(peer), this.#limits.openTimeout));
  }

  /**
   * The peer opened.
   *
   * @returns `false` when it was given up already.
   */
  opened(peer: P): boolean {
    const timer = this.#pending.get(peer);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#pending.delete(peer);
    return true;
  }

  /** A limit closed the peer; it keeps its place until {@linkcode Places.ended}. */
  aborted(peer: P): void {
    // Bun reports the end from inside close(), before this is called.
    if (peer.place && !peer.place.released) this.#aborted.add(peer);
  }

  /** The peer's connection is gone, or was never made: everything it held is let go. */
  ended(peer: P): void {
    clearTimeout(this.#pending.get(peer));
    this.#pending.delete(peer);
    this.#aborted.delete(peer);
    if (peer.place) this.release(peer.place);
  }
}

/** Size of a message in bytes, computing UTF-8 length only when it could matter. */
export function messageSize(message: string | Uint8Array, over = 0): number {
  if (typeof message !== "string") return message.byteLength;
  // A string's UTF-8 length is between its length and three times it.
  return message.length * 3 <= over ? message.length : utf8Length(message);
}

/**
 * A per-peer token bucket over messages and bytes per second. It starts full, holds `burst`
 * seconds of budget and refills continuously.
 */
export class TokenBucket {
  #rate: { messages: number; bytes: number; burst: number };
  #messages: number;
  #bytes: number;
  #last: number;

  constructor(rate: { messages: number; bytes: number; burst: number }, now: number) {
    this.#rate = rate;
    this.#messages = rate.messages * rate.burst;
    this.#bytes = rate.bytes * rate.burst;
    this.#last = now;
  }

  /**
   * Takes one message of `size` bytes from the bucket.
   *
   * @returns `false`, and takes nothing, when the peer is over its rate.
   */
  take(size: number, now: number): boolean {
    const r = this.#rate;
    const elapsed = (now - this.#last) / 1000;
    this.#last = now;
    this.#messages = Math.min(r.messages * r.burst, this.#messages + elapsed * r.messages);
    this.#bytes = Math.min(r.bytes * r.burst, this.#bytes + elapsed * r.bytes);
    if (this.#messages < 1 || this.#bytes < size) return false;
    this.#messages -= 1;
    this.#bytes -= size;
    return true;
  }
}
