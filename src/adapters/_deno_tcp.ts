/**
 * Deno's TCP as Web streams, for clients of other services (the Redis link). Internal.
 *
 * @module
 */

import type { DenoGlobal } from "./_deno_types.ts";
import type { TcpStream } from "./_tcp_stream.ts";

/**
 * Opens a TCP connection with `Deno.connect`.
 *
 * @param hostname The host.
 * @param port The port.
 * @returns The connection.
 */
export async function connect(hostname: string, port: number): Promise<TcpStream> {
  const conn = await (globalThis as unknown as DenoGlobal).Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  return {
    readable: conn.readable,
    writable: conn.writable,
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}
