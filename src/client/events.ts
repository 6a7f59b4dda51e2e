/**
 * The events of {@linkcode ReconnectingWebSocket} beyond those of `WebSocket`, and the typed
 * event map its `addEventListener` understands.
 *
 * @module
 */

import { ClientCloseEvent, type ConnectError } from "./errors.ts";
import type { OutgoingData } from "./options.ts";

/**
 * Dispatched when a connection attempt starts (before the providers are called).
 *
 * @example Show each attempt
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/");
 * ws.addEventListener("connecting", (e) => {
 *   console.log(e.attempt ? `retry #${e.attempt}` : "connecting");
 * });
 * ```
 */
export class ConnectingEvent extends Event {
  /** `0` for the first connection, then the number of the retry. */
  readonly attempt: number;

  /**
   * Creates the event.
   *
   * @param attempt `0` for the first connection, then the number of the retry.
   */
  constructor(attempt: number) {
    super("connecting");
    this.attempt = attempt;
  }
}

/**
 * Dispatched after a close when a reconnect has been scheduled.
 *
 * @example Count down to the next attempt
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/");
 * ws.addEventListener("reconnect", (e) => console.log(`retry #${e.attempt} in ${e.delay} ms`));
 * ```
 */
export class ReconnectEvent extends Event {
  /** The number of the coming retry, from 1. */
  readonly attempt: number;
  /** The wait before it, in milliseconds. */
  readonly delay: number;

  /**
   * Creates the event.
   *
   * @param attempt The number of the coming retry, from 1.
   * @param delay The wait before it, in milliseconds.
   */
  constructor(attempt: number, delay: number) {
    super("reconnect");
    this.attempt = attempt;
    this.delay = delay;
  }
}

/**
 * Why the client stopped reconnecting on its own: `"max-retries"` when `maxRetries` ran out,
 * `"policy"` when `shouldReconnect` said stop (by default: a close code that says "do not
 * come back", or a failure that cannot succeed, such as an HTTP 403 answer to the upgrade).
 */
export type GiveUpReason = "max-retries" | "policy";

/**
 * Dispatched after the last close when the client stops reconnecting on its own.
 *
 * @example Tell the user the client stopped, and why
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/", undefined, { maxRetries: 5 });
 * ws.addEventListener("giveup", (e) => {
 *   console.log(`gave up (${e.reason}) after ${e.attempt} retries: ${e.message}`);
 * });
 * ```
 */
export class GiveUpEvent extends Event {
  /** `"max-retries"` when `maxRetries` ran out, `"policy"` when `shouldReconnect` said stop. */
  readonly reason: GiveUpReason;
  /** The number of the last attempt (`0`: the first connection). */
  readonly attempt: number;
  /** The last close. */
  readonly closeEvent: CloseEvent;
  /** Why the last attempt failed before it opened, when it did. */
  readonly error: ConnectError | undefined;
  /**
   * What happened, as a sentence: "Cannot connect: the server answered the upgrade with
   * HTTP 403", "Cannot reconnect: closed with 4401 (token expired)", ...
   */
  readonly message: string;

  /**
   * Creates the event.
   *
   * @param reason Why the client stopped.
   * @param attempt The number of the last attempt.
   * @param closeEvent The last close.
   */
  constructor(reason: GiveUpReason, attempt: number, closeEvent: CloseEvent) {
    super("giveup");
    this.reason = reason;
    this.attempt = attempt;
    this.closeEvent = closeEvent;
    const error = closeEvent instanceof ClientCloseEvent ? closeEvent.error : undefined;
    this.error = error;
    const reasonText = closeEvent.reason ? ` (${closeEvent.reason})` : "";
    const last = error
      ? error.message
      : `Cannot reconnect: closed with ${closeEvent.code}${reasonText}`;
    this.message = reason === "policy"
      ? last
      : `${error ? "Cannot connect" : "Cannot reconnect"}: gave up after ${attempt} ${
        attempt === 1 ? "retry" : "retries"
      }; the last: ${last.replace(/^Cannot \w+: /, "")}`;
  }
}

/** Why messages were dropped. */
export type DropReason = "overflow" | "closed";

/**
 * Dispatched when messages are refused or discarded: never silently.
 *
 * @example Keep what the client could not send
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/");
 * ws.addEventListener("drop", (e) => console.warn(`${e.messages.length} not sent: ${e.reason}`));
 * ```
 */
export class DropEvent extends Event {
  /**
   * `"overflow"`: `send()` refused the message because the outbox was full;
   * `"closed"`: the client is closed for good, so a `send()` or the queued messages have
   * nowhere to go.
   */
  readonly reason: DropReason;
  /** The messages (queued ones as the copies the outbox took). */
  readonly messages: readonly OutgoingData[];

  /**
   * Creates the event.
   *
   * @param reason Why the messages were dropped.
   * @param messages The messages.
   */
  constructor(reason: DropReason, messages: readonly OutgoingData[]) {
    super("drop");
    this.reason = reason;
    this.messages = messages;
  }
}

/** The events of {@linkcode ReconnectingWebSocket}, by type. */
export interface ReconnectingWebSocketEventMap {
  /** A connection opened. */
  open: Event;
  /** A message arrived (heartbeat pongs excepted). */
  message: MessageEvent;
  /**
   * A connection or attempt ended, with its real code (1006 for abnormal endings) and, for an
   * attempt that failed before it opened, why.
   */
  close: ClientCloseEvent;
  /**
   * A socket failed, a provider threw, or an attempt timed out; for an attempt that failed
   * before it opened, `error` is a {@linkcode ConnectError}.
   */
  error: ErrorEvent;
  /** An attempt starts. */
  connecting: ConnectingEvent;
  /** A reconnect has been scheduled. */
  reconnect: ReconnectEvent;
  /** The client stopped reconnecting on its own. */
  giveup: GiveUpEvent;
  /** Messages were refused or discarded. */
  drop: DropEvent;
}
