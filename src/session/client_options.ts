/**
 * The options of `SessionClient`, with their defaults. Web standards only.
 *
 * @module
 */

import { checkNumber } from "../_check.ts";
import type { ReconnectingWebSocketOptions } from "../client/options.ts";
import type { RequestOptions } from "./types.ts";

/** Options of `SessionClient.join`: the request's, and the presence data to show. */
export interface JoinOptions extends RequestOptions {
  /**
   * Public data (JSON) every member of the room sees while this client is in it, when the
   * server has presence on (it may rewrite or refuse it; at most 512 bytes by default).
   *
   * @default {null}
   */
  presence?: unknown;
}

/** Options of {@linkcode SessionClient}: the reconnecting socket's, plus the session's. */
export interface SessionClientOptions
  extends Omit<ReconnectingWebSocketOptions, "maxQueued" | "maxQueuedBytes"> {
  /**
   * Messages kept until the server confirms them (sent or not yet sent).
   *
   * @default {10000}
   */
  maxPending?: number;
  /**
   * Bytes of those messages.
   *
   * @default {8388608}
   */
  maxPendingBytes?: number;
  /**
   * Milliseconds to wait for the server's welcome after connecting, before trying again.
   *
   * @default {10000}
   */
  helloTimeout?: number;
  /**
   * The timeout of requests that do not give one, in milliseconds.
   *
   * @default {10000}
   */
  requestTimeout?: number;
  /**
   * Milliseconds a gap in a stream (a frame that arrived ahead of its turn, say from another
   * server instance) is waited for before the client asks the server to fill it.
   *
   * @default {250}
   */
  gapTimeout?: number;
  /**
   * Frames held while waiting for a gap to close; past it the client reconnects and resumes.
   *
   * @default {10000}
   */
  maxOutOfOrder?: number;
}

/** The documented defaults of {@linkcode SessionClientOptions}. */
export const SESSION_DEFAULTS = {
  maxPending: 10_000,
  maxPendingBytes: 8 * 1024 * 1024,
  helloTimeout: 10_000,
  requestTimeout: 10_000,
  gapTimeout: 250,
  maxOutOfOrder: 10_000,
};

/** The session options of one client, checked, with their defaults. */
export type SessionSettings = typeof SESSION_DEFAULTS;

/**
 * Checks the session options and applies the defaults.
 *
 * @throws {RangeError} When one is not a number > 0.
 */
export function sessionSettings(
  options: { [K in keyof SessionSettings]?: number | undefined },
): SessionSettings {
  const out = { ...SESSION_DEFAULTS };
  for (const name of Object.keys(SESSION_DEFAULTS) as (keyof SessionSettings)[]) {
    out[name] = checkNumber(name, options[name], SESSION_DEFAULTS[name]);
  }
  return out;
}
