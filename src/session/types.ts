/**
 * The typing of a session protocol: one interface, shared by server and client code, that
 * names every event and request with its payload and result. A misspelled event or a wrong
 * payload is then a compile error on both ends.
 *
 * @example A chat protocol
 * ```ts
 * import type { Protocol } from "@wskit/wskit/protocol";
 *
 * interface Chat extends Protocol {
 *   clientEvents: { say: { text: string } };
 *   serverEvents: { said: { name: string; text: string } };
 *   clientRequests: { rename: { payload: { name: string }; result: { name: string } } };
 *   serverRequests: { confirm: { payload: string; result: boolean } };
 * }
 * ```
 *
 * @module
 */

/** A request's payload and result. */
export interface RequestShape {
  /** What the caller sends. */
  payload: unknown;
  /** What the handler returns. */
  result: unknown;
}

/**
 * A session protocol: events and requests in each direction. Extend it with your own
 * interface; leave a direction out (or `{}`) when it has nothing.
 */
export interface Protocol {
  /** Events a client emits to the server: name to payload. */
  clientEvents: Record<string, unknown>;
  /** Events the server emits to clients: name to payload. */
  serverEvents: Record<string, unknown>;
  /** Requests a client makes of the server: name to payload and result. */
  clientRequests: Record<string, RequestShape>;
  /** Requests the server makes of a client: name to payload and result. */
  serverRequests: Record<string, RequestShape>;
}

/** A protocol with nothing typed: any event name, any payload. */
export interface AnyProtocol extends Protocol {
  /** Any event, any payload. */
  clientEvents: Record<string, unknown>;
  /** Any event, any payload. */
  serverEvents: Record<string, unknown>;
  /** Any request. */
  clientRequests: Record<string, RequestShape>;
  /** Any request. */
  serverRequests: Record<string, RequestShape>;
}

/** Names of the events in one direction. */
export type EventName<M> = keyof M & string;

/** Options of a request, on either side. */
export interface RequestOptions {
  /**
   * Milliseconds from the call until the request fails with a `TimeoutError`, counted
   * while disconnected too (an expired request is never sent later).
   *
   * @default {10000}
   */
  timeout?: number;
  /** Cancels the request: it rejects with the signal's reason and, if unsent, is not sent. */
  signal?: AbortSignal;
}

/** Whether a room join is allowed: `true`/`false`, or a promise of it. */
export type Verdict = boolean | Promise<boolean>;

/** A stream position: the stream's epoch and the offset of the last entry. */
export type Position = [epoch: string, offset: number];

/** An error as it travels: what the handler chose to tell, never a stack. */
export interface ErrorBody {
  /** The error's name, such as `"RemoteError"` or `"NotFound"`. */
  name: string;
  /** A message meant for the other side. */
  message: string;
  /** An application code, when the handler gave one. */
  code?: string;
}
