/**
 * The options of {@linkcode ReconnectingWebSocket} with their defaults, and the two policies
 * they feed: the backoff delay and the close-code policy. Web standards only.
 *
 * @module
 */

import { checkNumber } from "../_check.ts";
import { refuseTheirOptions } from "./_migration.ts";
import type { ClientCloseEvent } from "./errors.ts";

/**
 * Where each connection attempt gets its URL: a fixed URL, or a function called before every
 * attempt (to put a fresh token in the query, say). A function that throws or rejects counts
 * as a failed attempt and is retried with the usual backoff.
 */
export type UrlProvider = string | URL | (() => string | URL | Promise<string | URL>);

/**
 * Where each connection attempt gets its subprotocols: fixed, or a function called before
 * every attempt. A function that throws or rejects counts as a failed attempt.
 */
export type ProtocolsProvider =
  | string
  | readonly string[]
  | (() =>
    | string
    | readonly string[]
    | undefined
    | Promise<string | readonly string[] | undefined>);

/** What {@linkcode ReconnectingWebSocket.send} accepts: the same as `WebSocket.send`. */
export type OutgoingData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** What a `message` event carries: text as `string`, binary as `binaryType` says. */
export type IncomingData = string | ArrayBuffer | Blob;

/**
 * What happened to one {@linkcode ReconnectingWebSocket.send}:
 * - `"sent"`: handed to the open socket;
 * - `"queued"`: kept in the outbox, to go out after the next open;
 * - `"dropped"`: refused, because the outbox is full or the client is closed for good. A
 *   `drop` event says which message and why.
 */
export type ClientSendStatus = "sent" | "queued" | "dropped";

/**
 * Backoff settings; see {@linkcode backoffDelay} for the formula. When `minDelay` is above
 * `maxDelay`, the one you set wins over the other's default, and when you set both, `maxDelay`
 * wins (as partysocket's delay never exceeds its `maxReconnectionDelay`).
 */
export interface BackoffOptions {
  /**
   * The shortest wait before a reconnect attempt, in milliseconds.
   *
   * @default {1000}
   */
  minDelay?: number;
  /**
   * The longest wait before a reconnect attempt, in milliseconds.
   *
   * @default {30000}
   */
  maxDelay?: number;
  /**
   * How much the upper end of the jitter window grows per attempt (`1` waits `minDelay`
   * every time, without jitter).
   *
   * @default {2}
   */
  factor?: number;
}

/** The application-level heartbeat of {@linkcode ReconnectingWebSocketOptions.heartbeat}. */
export interface ClientHeartbeatOptions {
  /**
   * After this many milliseconds without any incoming message, a ping is sent.
   *
   * @default {25000}
   */
  interval?: number;
  /**
   * If nothing at all arrives within this many milliseconds after a ping, the link is
   * taken for dead: the socket is dropped and a reconnect scheduled.
   *
   * @default {10000}
   */
  timeout?: number;
  /**
   * The text message sent as a ping.
   *
   * @default {"wskit:ping"}
   */
  ping?: string;
  /**
   * The text message the server answers with. It is never dispatched to the application.
   *
   * @default {"wskit:pong"}
   */
  pong?: string;
}

/** Options of {@linkcode ReconnectingWebSocket}. */
export interface ReconnectingWebSocketOptions extends BackoffOptions {
  /**
   * How many reconnect attempts in a row (without a connection that stayed up for
   * `minUptime`) before the client gives up with a `giveup` event. `0` never reconnects.
   *
   * @default {Infinity}
   */
  maxRetries?: number;
  /**
   * How long one attempt may take, providers and opening handshake together, before it is
   * abandoned as failed (close code 1006, reason `"connect timeout"`), in milliseconds.
   * After `close()`, it also bounds the wait for the closing handshake.
   *
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * How long a connection must stay open before the backoff starts over from the first
   * attempt, in milliseconds. A server that accepts and then drops at once keeps backing off.
   *
   * @default {5000}
   */
  minUptime?: number;
  /**
   * Most messages the outbox holds while the connection is down. `0` disables queueing.
   *
   * @default {1000}
   */
  maxQueued?: number;
  /**
   * Most bytes (UTF-8 for text) the outbox holds while the connection is down.
   *
   * @default {1048576}
   */
  maxQueuedBytes?: number;
  /**
   * An application-level ping that detects a half-open link. `true` uses the defaults of
   * {@linkcode ClientHeartbeatOptions}, which the wskit server answers without its `message` hook
   * seeing them; other servers need their own `ping` and `pong`.
   *
   * @default {false}
   */
  heartbeat?: boolean | ClientHeartbeatOptions;
  /**
   * Decides after each close that the application did not ask for whether to reconnect.
   * It sees the close event that is about to be dispatched, with `error` set when the attempt
   * failed before it opened.
   *
   * @default {defaultShouldReconnect}
   */
  shouldReconnect?: (event: ClientCloseEvent) => boolean;
  /**
   * Where `online`, `offline` and `visibilitychange` events come from. By default, in a
   * browser page or worker, the global scope (and `document` for visibility); elsewhere
   * nothing. `null` turns it off.
   */
  environment?: EventTarget | null;
}

/** The documented defaults of the options. */
export const DEFAULTS = {
  minDelay: 1000,
  maxDelay: 30_000,
  factor: 2,
  maxRetries: Infinity,
  connectTimeout: 10_000,
  minUptime: 5_000,
  maxQueued: 1000,
  maxQueuedBytes: 1024 * 1024,
} as const;

/** The heartbeat that `heartbeat: true` turns on: what the wskit server answers. */
export const HEARTBEAT = {
  interval: 25_000,
  timeout: 10_000,
  ping: "wskit:ping",
  pong: "wskit:pong",
};

/**
 * The wait before reconnect attempt `attempt`: exponential backoff with full jitter, a
 * uniform random delay in `[minDelay, min(maxDelay, minDelay * factor ** attempt)]`. With the
 * defaults: 1-2 s, 1-4 s, 1-8 s, 1-16 s, then 1-30 s.
 *
 * @example The window of the third retry
 * ```ts
 * import { backoffDelay } from "@wskit/wskit/client";
 *
 * const delay = backoffDelay(3, { minDelay: 1000, maxDelay: 30_000, factor: 2 });
 * console.assert(delay >= 1000 && delay <= 8000);
 * ```
 *
 * @param attempt The retry number, from 1.
 * @param options The backoff settings.
 * @param random A source of uniform numbers in `[0, 1)`.
 * @returns The delay in whole milliseconds.
 * @throws {RangeError} When `attempt` is not a positive integer or the options are out of
 * range (a `minDelay` above `maxDelay` is not: see {@linkcode BackoffOptions}).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(
      `Cannot compute a backoff delay: attempt must be a positive integer, got ${attempt}`,
    );
  }
  const { minDelay, maxDelay, factor } = backoffSettings(options);
  const ceiling = Math.min(maxDelay, minDelay * factor ** attempt);
  return Math.round(minDelay + random() * (ceiling - minDelay));
}

/**
 * Checks the backoff options and applies the defaults. A `minDelay` above `maxDelay` is
 * clamped, not refused: the one that was set wins over the other's default (`{ maxDelay: 500 }`
 * waits 500 ms every time, `{ minDelay: 60_000 }` at least a minute), and when both were set,
 * `maxDelay` wins, as in partysocket and reconnecting-websocket, whose options migrate here.
 *
 * @throws {RangeError} When they are out of range.
 */
export function backoffSettings(options: BackoffOptions): Required<BackoffOptions> {
  let minDelay = checkNumber("minDelay", options.minDelay, DEFAULTS.minDelay, { zero: true });
  let maxDelay = checkNumber("maxDelay", options.maxDelay, DEFAULTS.maxDelay, { zero: true });
  const factor = options.factor ?? DEFAULTS.factor;
  if (minDelay > maxDelay) {
    if (options.maxDelay === undefined) maxDelay = minDelay;
    else minDelay = maxDelay;
  }
  if (!(factor >= 1) || !Number.isFinite(factor)) {
    throw new RangeError(`Cannot back off: factor must be a finite number >= 1, got ${factor}`);
  }
  return { minDelay, maxDelay, factor };
}

/**
 * The default policy: whether a close the application did not ask for should be followed by
 * a reconnect.
 *
 * Stop after an attempt that failed in a way that cannot succeed later (its `error` says
 * `retryable: false`): an HTTP 4xx answer to the upgrade other than 408 and 429, a
 * subprotocol the runtime refused, a URL that cannot work. Stop on codes that say the client
 * itself is at fault and would only repeat the failure: 1002 protocol error, 1003 unsupported
 * data, 1007 invalid payload, 1008 policy violation, 1009 message too big, 1010 missing
 * extension, and 4400-4499 (the HTTP 4xx of WebSocket applications: 4401 unauthorized, 4403
 * forbidden, ...) except 4408 (timeout) and 4429 (too many requests), which mean "later".
 * Reconnect after everything else: abnormal closes (1006, also what browsers report for a
 * refused upgrade; a refused connection, a 5xx answer, a timeout), server restarts and
 * overload (1001, 1011, 1012, 1013, 1014), a server's or proxy's 1000 (idle timeouts), other
 * application codes.
 *
 * @example Compose it with your own rule
 * ```ts
 * import { defaultShouldReconnect, ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("wss://example.com/live", undefined, {
 *   shouldReconnect: (e) => e.code !== 4000 && defaultShouldReconnect(e),
 * });
 * ```
 *
 * @param event The close event, or anything with its `code` (and the `error` of an attempt
 * that failed before it opened).
 * @returns `true` to reconnect, `false` to stop for good.
 */
export function defaultShouldReconnect(
  event: { readonly code: number; readonly error?: { readonly retryable: boolean } | undefined },
): boolean {
  if (event.error?.retryable === false) return false;
  const code = event.code;
  if ([1002, 1003, 1007, 1008, 1009, 1010].includes(code)) return false;
  return !(code >= 4400 && code <= 4499 && code !== 4408 && code !== 4429);
}

/** The options of one client, checked, with the defaults applied. */
export interface ClientSettings {
  backoff: Required<BackoffOptions>;
  maxRetries: number;
  connectTimeout: number;
  minUptime: number;
  maxQueued: number;
  maxQueuedBytes: number;
  heartbeat: Required<ClientHeartbeatOptions> | undefined;
  shouldReconnect: (event: ClientCloseEvent) => boolean;
}

/**
 * Checks the options and applies the defaults.
 *
 * @throws {RangeError} When a number is out of range.
 * @throws {TypeError} When the heartbeat's ping or pong is not text, or an option is
 * partysocket's (`minReconnectionDelay`, ...): the message names wskit's.
 */
export function clientSettings(options: ReconnectingWebSocketOptions): ClientSettings {
  refuseTheirOptions(options);
  const any = { zero: true, infinite: true };
  let heartbeat: Required<ClientHeartbeatOptions> | undefined;
  const beat = options.heartbeat;
  if (beat) {
    const b = { ...HEARTBEAT, ...(beat === true ? {} : beat) };
    checkNumber("heartbeat.interval", b.interval, HEARTBEAT.interval);
    checkNumber("heartbeat.timeout", b.timeout, HEARTBEAT.timeout);
    if (typeof b.ping !== "string" || typeof b.pong !== "string") {
      throw new TypeError("Cannot configure heartbeat: ping and pong must be strings");
    }
    heartbeat = b;
  }
  return {
    backoff: backoffSettings(options),
    maxRetries: checkNumber("maxRetries", options.maxRetries, DEFAULTS.maxRetries, any),
    connectTimeout: checkNumber("connectTimeout", options.connectTimeout, DEFAULTS.connectTimeout),
    minUptime: checkNumber("minUptime", options.minUptime, DEFAULTS.minUptime, { zero: true }),
    maxQueued: checkNumber("maxQueued", options.maxQueued, DEFAULTS.maxQueued, any),
    maxQueuedBytes: checkNumber(
      "maxQueuedBytes",
      options.maxQueuedBytes,
      DEFAULTS.maxQueuedBytes,
      any,
    ),
    heartbeat,
    shouldReconnect: options.shouldReconnect ?? defaultShouldReconnect,
  };
}

const encoder = new TextEncoder();

/**
 * Checks what `close()` was given, as `WebSocket.close` does.
 *
 * @throws {RangeError} When the code or reason cannot go into a close frame.
 */
export function checkClientClose(code: number | undefined, reason: string | undefined): void {
  if (
    code !== undefined &&
    !(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))
  ) {
    throw new RangeError(`Cannot close: code ${code} is not 1000 or 3000-4999`);
  }
  if (reason !== undefined && encoder.encode(reason).length > 123) {
    throw new RangeError("Cannot close: the reason is longer than 123 bytes of UTF-8");
  }
}
