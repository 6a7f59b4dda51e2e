/**
 * Raw TCP on both runtimes (`Deno.connect`/`Deno.listen`, `Bun.connect`/`Bun.listen`), for
 * tests that must speak below WebSocket (malformed handshakes, garbage frames, proxies that
 * cut or freeze a link) and for the benchmark's load client.
 */

import { deferred } from "./wait.ts";
import { SAMPLE_KEY } from "./ws_wire.ts";

/** One TCP connection with a callback for incoming bytes. */
export interface TcpConn {
  /** Queues bytes for writing, in order; the caller may reuse `data` once this returns. */
  write(data: Uint8Array | string): void;
  /**
   * Sets the receiver of incoming bytes (bytes that arrived before are replayed to it). A
   * chunk is valid during the call only: copy what you keep.
   */
  onData(cb: (data: Uint8Array) => void): void;
  /** Resolves when the connection has closed, from either side. */
  readonly closed: Promise<void>;
  /** Whether the connection has closed. */
  readonly isClosed: boolean;
  /** Closes the connection. */
  close(): void;
  /** Stops reading from the socket, so that the peer's writes back up (a slow consumer). */
  pause(): void;
  /** Reads again after `pause()`. */
  resume(): void;
}

const encoder = new TextEncoder();

class Conn implements TcpConn {
  pause: () => void = () => {};
  resume: () => void = () => {};
  #early: Uint8Array[] = [];
  #cb: ((d: Uint8Array) => void) | undefined;
  #closed = deferred<void>();
  readonly closed: Promise<void> = this.#closed.promise;
  isClosed = false;
  constructor(
    readonly writeRaw: (d: Uint8Array) => void,
    readonly closeRaw: () => void,
  ) {}
  write(data: Uint8Array | string): void {
    if (this.isClosed) return;
    this.writeRaw(typeof data === "string" ? encoder.encode(data) : data);
  }
  deliver(d: Uint8Array): void {
    if (this.#cb) this.#cb(d);
    else this.#early.push(d.slice());
  }
  onData(cb: (data: Uint8Array) => void): void {
    this.#cb = cb;
    for (const d of this.#early.splice(0)) cb(d);
  }
  ended(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#closed.resolve();
  }
  close(): void {
    if (this.isClosed) return;
    this.closeRaw();
    this.ended();
  }
}

interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}
interface DenoNet {
  connect(o: { hostname: string; port: number }): Promise<DenoConn>;
  listen(o: { hostname: string; port: number }): AsyncIterable<DenoConn> & {
    addr: { port: number };
    close(): void;
  };
}
interface BunSocketLike {
  write(d: Uint8Array): number;
  end(): void;
  pause(): void;
  resume(): void;
  terminate?(): void;
  data: Conn & { pending: Uint8Array[] };
}
interface BunNet {
  connect(o: unknown): Promise<BunSocketLike>;
  listen(o: unknown): { port: number; stop(force?: boolean): void };
}

const deno = (globalThis as unknown as { Deno?: DenoNet }).Deno;
const bun = (globalThis as unknown as { Bun?: BunNet }).Bun;

function denoConn(c: DenoConn): Conn {
  let chain = Promise.resolve();
  let broken = false;
  const conn: Conn = new Conn(
    (bytes) => {
      if (broken) return;
      // Deno writes later: keep a copy, so that the caller may reuse its buffer.
      const d = bytes.slice();
      chain = chain.then(async () => {
        let off = 0;
        while (off < d.length && !conn.isClosed && !broken) off += await c.write(d.subarray(off));
      }).catch(() => {
        // The other side is gone, but what it sent before may still wait to be read (a close
        // frame): writing stops, and the reader ends the connection once it has read it all.
        broken = true;
      });
    },
    () => {
      try {
        c.close();
      } catch { /* already closed */ }
    },
  );
  let paused: Promise<void> | undefined;
  let unpause = () => {};
  conn.pause = () => {
    paused ??= new Promise((r) => unpause = r);
  };
  conn.resume = () => {
    paused = undefined;
    unpause();
  };
  (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        if (paused) await Promise.race([paused, conn.closed]);
        if (conn.isClosed) break;
        const n = await c.read(buf);
        if (n === null) break;
        conn.deliver(buf.slice(0, n));
      }
    } catch { /* reset or closed locally */ }
    conn.close();
  })();
  return conn;
}

/** The socket handlers of every Bun connection (its own state is in `socket.data`). */
const bunHandlers = {
  open(s: BunSocketLike) {
    if (!s.data) {
      (s as { data: unknown }).data = bunConn(s);
    }
  },
  data(s: BunSocketLike, d: Uint8Array) {
    s.data.deliver(d);
  },
  drain(s: BunSocketLike) {
    const q = s.data.pending;
    while (q.length) {
      const d = q[0]!;
      const n = s.write(d);
      if (n < d.length) {
        q[0] = d.subarray(Math.max(n, 0));
        return;
      }
      q.shift();
    }
  },
  close(s: BunSocketLike) {
    s.data?.ended();
  },
  error(s: BunSocketLike) {
    s.data?.ended();
  },
};

function bunConn(s: BunSocketLike): Conn & { pending: Uint8Array[] } {
  const pending: Uint8Array[] = [];
  const conn = new Conn(
    (d) => {
      if (pending.length) {
        pending.push(d.slice());
        return;
      }
      const n = s.write(d);
      if (n < d.length) pending.push(d.slice(Math.max(n, 0)));
    },
    () => s.end(),
  ) as Conn & { pending: Uint8Array[] };
  conn.pending = pending;
  conn.pause = () => s.pause();
  conn.resume = () => s.resume();
  return conn;
}

/** Connects to 127.0.0.1:`port`. */
export async function connectTcp(port: number): Promise<TcpConn> {
  if (deno) return denoConn(await deno.connect({ hostname: "127.0.0.1", port }));
  const s = await bun!.connect({ hostname: "127.0.0.1", port, socket: bunHandlers });
  if (!s.data) (s as { data: unknown }).data = bunConn(s);
  return s.data;
}

/**
 * A port that was free a moment ago: bound on port 0 and let go. Another process may take it
 * first; callers that cannot afford that retry.
 */
export function freePort(): number {
  const l = listenTcp(0, (c) => c.close());
  const port = l.port;
  l.close();
  return port;
}

/** A TCP listener on 127.0.0.1. */
export interface TcpListener {
  readonly port: number;
  close(): void;
}

/** Listens on 127.0.0.1:`port` (0 for a free one) and hands every connection to `accept`. */
export function listenTcp(port: number, accept: (conn: TcpConn) => void): TcpListener {
  if (deno) {
    const listener = deno.listen({ hostname: "127.0.0.1", port });
    (async () => {
      try {
        for await (const c of listener) accept(denoConn(c));
      } catch { /* closed */ }
    })();
    return { port: listener.addr.port, close: () => listener.close() };
  }
  const server = bun!.listen({
    hostname: "127.0.0.1",
    port,
    socket: {
      ...bunHandlers,
      open(s: BunSocketLike) {
        bunHandlers.open(s);
        accept(s.data);
      },
    },
  });
  return { port: server.port, close: () => server.stop(true) };
}

/** An HTTP response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * Sends a hand-written HTTP request on a fresh connection and reads the response: the
 * status line, headers and a `Content-Length` body, or whatever arrived before the server
 * closed the connection or the deadline passed.
 */
export async function rawHttp(
  port: number,
  request: string,
  timeout = 3_000,
): Promise<RawResponse> {
  const conn = await connectTcp(port);
  const done = deferred<void>();
  let text = "";
  const decoder = new TextDecoder();
  conn.onData((d) => {
    text += decoder.decode(d, { stream: true });
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
    if (!length || text.length - end - 4 >= Number(length[1])) done.resolve();
  });
  conn.write(request);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    done.promise,
    conn.closed,
    new Promise<void>((r) => timer = setTimeout(r, timeout)),
  ]);
  clearTimeout(timer);
  conn.close();
  const end = text.indexOf("\r\n\r\n");
  const head = (end < 0 ? text : text.slice(0, end)).split("\r\n");
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return {
    status: Number(head[0]?.split(" ")[1] ?? 0),
    headers,
    body: end < 0 ? "" : text.slice(end + 4),
  };
}

/** A well-formed upgrade request for `path`, with `extra` header lines. */
export function upgradeRequest(path = "/", extra: Record<string, string> = {}): string {
  const headers: Record<string, string> = {
    host: "127.0.0.1",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": SAMPLE_KEY,
    "sec-websocket-version": "13",
    ...extra,
  };
  const lines = Object.entries(headers).filter(([, v]) => v !== "").map(([k, v]) => `${k}: ${v}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}
