/**
 * The seam between the runtime-neutral core and the two runtime adapters. An adapter wraps
 * each native socket in a {@linkcode SocketDriver}; a runtime with its own topics (Bun) also
 * supplies {@linkcode NativeTopics}, behind which its quirks stay (server-wide topic names,
 * a publish from a closing socket). Nothing here mentions `Deno` or `Bun`. A leaf.
 *
 * @module
 */

import type { SendStatus } from "./types.ts";

/** What the core needs from one native server-side socket. */
export interface SocketDriver {
  /** Sends one frame; `data` is already normalized to text or bytes. */
  send(data: string | Uint8Array): SendStatus;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  /** Bytes accepted by `send` that the runtime has not written yet. */
  readonly bufferedAmount: number;
  /** Whether the runtime enforces the backpressure limit itself (Bun), so the core need not. */
  readonly nativeBackpressure?: boolean;
  /**
   * Whether more than `limit` bytes are queued. Drivers without native backpressure that can
   * answer without a runtime call most of the time implement it; others are asked for
   * `bufferedAmount`.
   */
  overLimit?(limit: number): boolean;
}

/**
 * A runtime's own topic fan-out. The hub keeps the membership either way (for stats and
 * shutdown); with native topics it mirrors every change here and hands each publish over
 * in one call instead of looping over the subscribers.
 */
export interface NativeTopics {
  /** `socket` joins `topic`. */
  subscribe(socket: SocketDriver, topic: string): void;
  /** `socket` leaves `topic`. */
  unsubscribe(socket: SocketDriver, topic: string): void;
  /** Delivers `data` to every socket in `topic` but `except` (the publisher), if given. */
  publish(topic: string, data: string | Uint8Array, except?: SocketDriver): void;
}
