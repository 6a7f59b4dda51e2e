/**
 * The runtime's TCP as Web streams, for the toolkit's clients of other services (the Redis
 * link): the one place outside the adapters that needs a runtime API, each runtime's code in
 * a small module of its own, imported lazily.
 *
 * @module
 */

import type { TcpStream } from "./_tcp_stream.ts";

export type { TcpStream } from "./_tcp_stream.ts";

/**
 * Opens a TCP connection on the current runtime.
 *
 * @param hostname The host.
 * @param port The port.
 * @returns The connection.
 * @throws {Error} When the runtime is neither Deno nor Bun.
 */
export async function connectTcp(hostname: string, port: number): Promise<TcpStream> {
  if ("Bun" in globalThis) return (await import("./_bun_tcp.ts")).connect(hostname, port);
  if ("Deno" in globalThis) return (await import("./_deno_tcp.ts")).connect(hostname, port);
  throw new Error("Cannot open a TCP connection: this runtime is neither Deno nor Bun");
}
