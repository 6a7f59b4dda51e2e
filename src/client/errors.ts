/**
 * `ConnectError`: why one connection attempt of the reconnecting client failed before it
 * opened, as far as the runtime lets the client know, and whether retrying can help; and
 * `ClientCloseEvent`, the client's `close` event, which carries it. A leaf module: the options
 * and the events both import it.
 *
 * @module
 */

/**
 * What kept an attempt from opening:
 * - `"status"`: the server answered the upgrade with an HTTP status other than 101 (`status`
 *   says which; Deno and Bun report it, browsers do not);
 * - `"subprotocol"`: the runtime refused the server's choice of subprotocol (Bun's client
 *   refuses a handshake in which the server chose none of the offered subprotocols);
 * - `"url"`: the URL or the subprotocols cannot make a WebSocket (a wrong scheme, a list with
 *   duplicates);
 * - `"provider"`: the URL or subprotocol provider threw or rejected;
 * - `"timeout"`: no answer within `connectTimeout`;
 * - `"network"`: anything else (a refused connection, DNS, a reset, TLS), or a runtime that
 *   gives no reason (browsers never do).
 */
export type ConnectErrorKind =
  | "status"
  | "subprotocol"
  | "url"
  | "provider"
  | "timeout"
  | "network";

/** What a {@linkcode ConnectError} is made of. */
export interface ConnectErrorOptions {
  /** What kept the attempt from opening. */
  kind: ConnectErrorKind;
  /** `false` when the same attempt cannot succeed later. */
  retryable: boolean;
  /** The HTTP status of the answer to the upgrade, for `kind: "status"`. */
  status?: number;
  /** What the runtime or the provider reported. */
  cause?: unknown;
}

/**
 * Why a connection attempt failed before it opened, carried by the `error` event of the
 * attempt, its `close` event and, when the client stops, its `giveup` event. `retryable` is
 * `false` when the same attempt cannot succeed later (an HTTP 4xx answer other than 408 and
 * 429, a refused subprotocol, a URL that cannot work): the default policy stops on those.
 *
 * @example Tell "fix the configuration" from "the server is down"
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/", ["chat.v2"]);
 * ws.addEventListener("giveup", (e) => {
 *   if (e.error?.kind === "status") console.error(`refused with HTTP ${e.error.status}`);
 *   console.error(e.message); // "Cannot connect: ..."
 * });
 * ```
 */
export class ConnectError extends Error {
  /** What kept the attempt from opening. */
  readonly kind: ConnectErrorKind;
  /** `false` when the same attempt cannot succeed later: retrying only repeats the failure. */
  readonly retryable: boolean;
  /** The HTTP status of the answer to the upgrade, for `kind: "status"`. */
  readonly status: number | undefined;

  /**
   * Creates the error.
   *
   * @param message "Cannot connect: <reason>".
   * @param options Its kind, whether it may succeed later, the status and the cause.
   */
  constructor(message: string, options: ConnectErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ConnectError";
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.status = options.status;
  }
}

/**
 * The `close` event of {@linkcode ReconnectingWebSocket}: a `CloseEvent` with the code, reason
 * and `wasClean` the socket reported, and, for an attempt that failed before it opened, why.
 *
 * @example Log why each attempt ended
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/");
 * ws.addEventListener("close", (e) => {
 *   console.log(e.error ? e.error.message : `closed with ${e.code} ${e.reason}`);
 * });
 * ```
 */
export class ClientCloseEvent extends CloseEvent {
  /**
   * Why the attempt failed before it opened (its `reason` then reads "connect failed: ..."),
   * or `undefined` for a connection that opened, or a close the application asked for.
   */
  readonly error: ConnectError | undefined;

  /**
   * Creates the event.
   *
   * @param init The code, reason and `wasClean`.
   * @param error Why the attempt failed before it opened.
   */
  constructor(
    init: { code?: number; reason?: string; wasClean?: boolean },
    error?: ConnectError,
  ) {
    super("close", init);
    this.error = error;
  }
}
