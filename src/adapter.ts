/**
 * The seam between the runtime-neutral core and the two runtime adapters. An adapter wraps
 * each native socket in a {@linkcode SocketDriver}; on Bun it also supplies
 * {@linkcode NativeFanout} so that topics use the runtime's own publish. Nothing here
 * mentions `Deno` or `Bun`.
 *
 * @module
 */

import type { SendStatus } from "./hooks.ts";

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
  /** Joins a native topic (Bun only). */
  subscribe?(topic: string): void;
  /** Leaves a native topic (Bun only). */
  unsubscribe?(topic: string): void;
  /** Publishes to a native topic, excluding this socket (Bun only). */
  publish?(topic: string, data: string | Uint8Array): void;
}

/** A runtime's own topic fan-out, reaching every subscribed socket (Bun `server.publish`). */
export interface NativeFanout {
  /** Delivers `data` to every socket subscribed to `topic`. */
  publish(topic: string, data: string | Uint8Array): void;
}

/** A TCP connection as Web streams, for clients of other services (the Redis relay). */
export interface TcpStream {
  /** Bytes from the other side. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the other side. */
  readonly writable: WritableStream<Uint8Array>;
  /** Closes the connection. */
  close(): void;
}

/** Opens a TCP connection; each adapter exports one as `connectTcp`. */
export type TcpConnect = (hostname: string, port: number) => Promise<TcpStream>;
