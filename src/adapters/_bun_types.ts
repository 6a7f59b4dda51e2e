/**
 * The parts of Bun's server API the adapter uses, declared here (no `@types`, no global
 * declarations), so that the adapter type-checks in any program. A leaf.
 *
 * @module
 */

/** The part of Bun's `ServerWebSocket` the adapter uses. */
export interface BunServerWebSocket {
  /** The value passed as `data` to `server.upgrade` (the adapter's own state). */
  readonly data: unknown;
  /** How binary messages are delivered. */
  binaryType?: string;
  /** Sends a frame: bytes written, -1 under backpressure, 0 dropped. */
  send(data: string | Uint8Array, compress?: boolean): number;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Drops the connection. */
  terminate(): void;
  /** Joins a topic. */
  subscribe(topic: string): void;
  /** Leaves a topic. */
  unsubscribe(topic: string): void;
  /** Publishes to a topic, excluding this socket. */
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  /** Bytes buffered in user space. */
  getBufferedAmount(): number;
}

/** The part of Bun's `Server` the adapter uses. */
export interface BunServerLike {
  /** Upgrades a request; `false` when Bun refuses the handshake. */
  upgrade(request: Request, options: { data: unknown; headers?: Headers }): boolean;
  /** Publishes to every socket subscribed to `topic`. */
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  /** The remote address of a request's connection. */
  requestIP?(request: Request): { address: string } | null;
}

/** The `websocket` object to pass to `Bun.serve`. */
export interface BunWebSocketHandler {
  /** Called by Bun when a socket opens. */
  open(ws: BunServerWebSocket): void;
  /** Called by Bun for every message. */
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  /** Called by Bun when a socket has closed. */
  close(ws: BunServerWebSocket, code: number, reason: string): void;
  /** Called by Bun when a socket's backpressure has cleared. */
  drain(ws: BunServerWebSocket): void;
  /** Bun option: permessage-deflate with the shared compressor (wskit's `compression`). */
  perMessageDeflate: boolean;
  /** Bun option: `ws.publish` leaves the sender out. */
  publishToSelf: boolean;
  /** Bun option: the largest message, in bytes (wskit's `maxPayloadBytes`). */
  maxPayloadLength: number;
  /** Bun option: seconds of silence before a ping and a close (wskit's `idleTimeout`). */
  idleTimeout: number;
  /** Bun option: ping before the idle timeout expires. */
  sendPings: boolean;
  /** Bun option: outbound bytes per socket (wskit's `backpressure.maxBytes`). */
  backpressureLimit: number;
  /** Bun option: drop the socket past the limit (wskit's `backpressure.policy: "close"`). */
  closeOnBackpressureLimit: boolean;
}

/** The part of the `Bun` global that `serve()` uses. */
export interface BunServe {
  serve(options: {
    port: number;
    hostname: string;
    reusePort: boolean;
    fetch(request: Request, server: BunServerLike): Promise<Response | undefined> | Response;
    websocket: BunWebSocketHandler;
    error(error: Error): Response;
  }): { port: number; hostname: string; stop(closeActive?: boolean): Promise<void> };
}
