/**
 * A TCP connection as Web streams: what the runtime's TCP modules give the Redis link. A leaf.
 *
 * @module
 */

/** A TCP connection as Web streams. */
export interface TcpStream {
  /** Bytes from the other side. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the other side. */
  readonly writable: WritableStream<Uint8Array>;
  /** Closes the connection. */
  close(): void;
}
