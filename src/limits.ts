/**
 * The protective limits of an endpoint: their defaults, the origin check, the per-peer
 * token bucket and the counters that `stats()` reports. Runtime-neutral.
 *
 * @module
 */

import { utf8Length } from "./_utf8.ts";
import type { EndpointOptions, LimitStats } from "./hooks.ts";

/** Default largest message accepted, in bytes (4 MiB). */
export const DEFAULT_MAX_PAYLOAD = 4 * 1024 * 1024;
/** Default most open connections per endpoint. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default idle timeout, in seconds: Deno's own default, and below common proxy timeouts. */
export const DEFAULT_IDLE_TIMEOUT = 30;
/** Default per-peer outbound queue limit, in bytes (4 MiB). */
export const DEFAULT_BACKPRESSURE_LIMIT = 4 * 1024 * 1024;

/** An error raised by a limit, carrying the close code that goes with it. */
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
  maxPayload: number;
  maxConnections: number;
  idleTimeout: number;
  backpressureLimit: number;
  closeSlowPeers: boolean;
  rate: { messages: number; bytes: number; burst: number; close: boolean } | undefined;
  origin: (origin: string, request: Request) => boolean;
}

function positive(name: string, value: number | undefined, fallback: number, zero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!zero && value === 0)) {
    throw new RangeError(
      `Cannot configure ${name}: expected a ${
        zero ? "non-negative" : "positive"
      } number, got ${value}`,
    );
  }
  return value;
}

/**
 * Applies the documented defaults to the options and checks them.
 *
 * @throws {RangeError} For a limit that is not a positive number.
 * @throws {TypeError} For an origin that is not a URL origin.
 */
export function resolveLimits(options: EndpointOptions): Limits {
  const rate = options.rateLimit;
  const bp = options.backpressure ?? {};
  return {
    maxPayload: positive("maxPayload", options.maxPayload, DEFAULT_MAX_PAYLOAD),
    maxConnections: positive("maxConnections", options.maxConnections, DEFAULT_MAX_CONNECTIONS),
    idleTimeout: positive("idleTimeout", options.idleTimeout, DEFAULT_IDLE_TIMEOUT, true),
    backpressureLimit: positive("backpressure.limit", bp.limit, DEFAULT_BACKPRESSURE_LIMIT),
    closeSlowPeers: (bp.policy ?? "close") === "close",
    rate: rate
      ? {
        messages: positive("rateLimit.messages", rate.messages, Infinity),
        bytes: positive("rateLimit.bytes", rate.bytes, Infinity),
        burst: positive("rateLimit.burst", rate.burst, 1),
        close: (rate.policy ?? "close") === "close",
      }
      : undefined,
    origin: originCheck(options.origins),
  };
}

function originCheck(
  origins: EndpointOptions["origins"],
): (origin: string, request: Request) => boolean {
  if (typeof origins === "function") return origins;
  if (origins === undefined) return sameOrigin;
  if (origins.includes("*")) return () => true;
  const allowed = new Set(origins.map((o) => {
    let url;
    try {
      url = new URL(o);
    } catch {
      throw new TypeError(
        `Cannot allow origin "${o}": it is not a URL such as https://example.com`,
      );
    }
    return url.origin;
  }));
  return (origin) => allowed.has(origin.toLowerCase());
}

/** The default origin policy: a browser page may connect only to the host that served it. */
function sameOrigin(origin: string, request: Request): boolean {
  const host = request.headers.get("host");
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" and other opaque origins
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

/** Fresh counters for `stats()`. */
export function newCounters(): LimitStats {
  return {
    dropped: 0,
    closed: { backpressure: 0, rateLimit: 0, tooBig: 0, idle: 0, protocol: 0 },
    refused: { origin: 0, capacity: 0, malformed: 0, rateLimit: 0 },
  };
}
