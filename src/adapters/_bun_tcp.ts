/**
 * Bun's TCP as Web streams, for clients of other services (the Redis link). Internal.
 *
 * @module
 */

import type { TcpStream } from "./_tcp_stream.ts";

/** The part of a Bun TCP socket `connect` uses. */
interface BunTcpSocket {
  write(data: Uint8Array): number;
  end(): void;
}

/** The part of the `Bun` global that `connect` uses. */
interface BunConnect {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      data(socket: BunTcpSocket, data: Uint8Array): void;
      drain(socket: BunTcpSocket): void;
      close(socket: BunTcpSocket): void;
      error(socket: BunTcpSocket, error: Error): void;
    };
  }): Promise<BunTcpSocket>;
}

/**
 * Opens a TCP connection with `Bun.connect`.
 *
 * @param hostname The host.
 * @param port The port.
 * @returns The connection.
 */
export async function connect(hostname: string, port: number): Promise<TcpStream> {
  const bun = (globalThis as unknown as { Bun: BunConnect }).Bun;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let done = false;
  let waiting: (() => void) | undefined;
  const end = (error?: Error) => {
    if (done) return;
    done = true;
    waiting?.();
    try {
      if (error) controller.error(error);
      else controller.close();
    } catch { /* already closed */ }
  };
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const socket = await bun.connect({
    hostname,
    port,
    socket: {
      data: (_s, data) => controller.enqueue(new Uint8Array(data)),
      drain: () => waiting?.(),
      close: () => end(),
      error: (_s, error) => end(error),
    },
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      let rest = chunk;
      while (rest.length > 0) {
        if (done) throw new Error("Cannot write: the connection is closed");
        const n = socket.write(rest);
        if (n === rest.length) return;
        rest = rest.subarray(Math.max(n, 0));
        if (rest.length > 0) await new Promise<void>((r) => waiting = r);
      }
    },
  });
  return {
    readable,
    writable,
    close() {
      socket.end();
      end();
    },
  };
}
