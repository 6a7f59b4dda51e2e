/**
 * One raw-TCP WebSocket client connection on Bun (`Bun.connect`): the handshake, a write queue
 * that survives short writes, pong replies to the server's pings, and frame dispatch to the
 * scenario. No `WebSocket` object, no event per message: the load client must cost far less
 * per message than the servers it measures.
 *
 * @module
 */

import {
  clientFrame,
  FrameParser,
  handshakeRequest,
  handshakeResponse,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
} from "./ws_wire.ts";

/** The part of a Bun TCP socket the client uses. */
interface BunSocket {
  data: Conn;
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
}

interface BunNet {
  connect(options: {
    hostname: string;
    port: number;
    data: Conn;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, chunk: Uint8Array): void;
      drain(s: BunSocket): void;
      close(s: BunSocket): void;
      error(s: BunSocket, error: Error): void;
      connectError(s: BunSocket, error: Error): void;
    };
  }): Promise<BunSocket>;
}

const bun = (globalThis as unknown as { Bun: BunNet }).Bun;

/** What a scenario does with the frames of one connection. */
export interface ConnHandler {
  /**
   * A data frame arrived; `payload` is `buf[start, end)`, valid only during the call.
   * `now` is the arrival time of the TCP chunk that carried it.
   */
  frame(conn: Conn, opcode: number, buf: Uint8Array, start: number, end: number, now: number): void;
  /** Called after each TCP chunk, once its frames are handled (to flush batched sends). */
  chunkDone?(conn: Conn): void;
  /** The connection closed; `expected` is false when the client had not asked for it. */
  closed(conn: Conn, expected: boolean): void;
}

/** One client connection. */
export class Conn {
  /** The connection's number, carried in its payloads. */
  readonly id: number;
  /** Set once the `101` response has been read. */
  upgraded = false;
  /** Set once the client started closing. */
  closing = false;
  /** Set once the TCP connection is gone. */
  ended = false;
  #socket: BunSocket | undefined;
  #handler: ConnHandler;
  #parser = new FrameParser();
  #head: Uint8Array | null = null;
  #queue: Uint8Array[] = [];
  #opened: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #sink: (op: number, fin: boolean, buf: Uint8Array, start: number, end: number) => void;
  #now = 0;

  constructor(id: number, handler: ConnHandler) {
    this.id = id;
    this.#handler = handler;
    this.#sink = (op, fin, buf, start, end) => {
      if (!fin) throw new Error(`Protocol error: fragmented frame on connection ${this.id}`);
      if (op === OP_PING) this.write(clientFrame(OP_PONG, buf.slice(start, end)));
      else if (op === OP_CLOSE) this.#closeFrame();
      else if (op !== OP_PONG) this.#handler.frame(this, op, buf, start, end, this.#now);
    };
  }

  /** Connects and completes the WebSocket handshake for `path`. */
  open(port: number, path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#opened = { resolve, reject };
      this.#path = path;
      this.#port = port;
      bun.connect({ hostname: "127.0.0.1", port, data: this, socket: handlers }).catch(
        (e: Error) => this.#failOpen(e),
      );
    });
  }

  #path = "/";
  #port = 0;

  /** Queues `bytes` for writing, in order; the caller may reuse `bytes` afterwards. */
  write(bytes: Uint8Array): void {
    const s = this.#socket;
    if (!s || this.ended) return;
    if (this.#queue.length > 0) {
      this.#queue.push(bytes.slice());
      return;
    }
    const n = s.write(bytes);
    if (n < bytes.length) this.#queue.push(bytes.slice(Math.max(n, 0)));
  }

  /** Sends a close frame (1000) and ends the TCP connection. */
  close(): void {
    if (this.closing || this.ended) return;
    this.closing = true;
    this.write(clientFrame(OP_CLOSE, new Uint8Array([0x03, 0xe8])));
  }

  /** Drops the TCP connection without a closing handshake. */
  terminate(): void {
    this.closing = true;
    this.#socket?.terminate();
  }

  #closeFrame(): void {
    // The server's close frame: answer it (unless this side started) and end the connection.
    if (!this.closing) {
      this.closing = true;
      this.write(clientFrame(OP_CLOSE, new Uint8Array([0x03, 0xe8])));
    }
    this.#socket?.end();
  }

  #failOpen(e: Error): void {
    const o = this.#opened;
    this.#opened = undefined;
    o?.reject(new Error(`Cannot connect connection ${this.id}: ${e.message}`));
  }

  /** @internal */ onOpen(s: BunSocket): void {
    this.#socket = s;
    s.write(handshakeRequest("127.0.0.1", this.#port, this.#path));
  }

  /** @internal */ onData(chunk: Uint8Array): void {
    this.#now = performance.now();
    try {
      if (!this.upgraded) {
        const buf = this.#head ? concat(this.#head, chunk) : chunk;
        const end = handshakeResponse(buf);
        if (end === 0) {
          this.#head = buf.slice();
          return;
        }
        this.#head = null;
        this.upgraded = true;
        const o = this.#opened;
        this.#opened = undefined;
        o?.resolve();
        if (end === buf.length) return;
        chunk = buf.subarray(end);
      }
      this.#parser.push(chunk, this.#sink);
      this.#handler.chunkDone?.(this);
    } catch (e) {
      errors.push((e as Error).message);
      if (this.#opened) this.#failOpen(e as Error);
      this.terminate();
    }
  }

  /** @internal */ onDrain(): void {
    const s = this.#socket!;
    const q = this.#queue;
    while (q.length > 0) {
      const head = q[0]!;
      const n = s.write(head);
      if (n < head.length) {
        q[0] = head.subarray(Math.max(n, 0));
        return;
      }
      q.shift();
    }
  }

  /** @internal */ onClose(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.#opened) {
      this.#failOpen(new Error("closed during the handshake"));
      return;
    }
    this.#handler.closed(this, this.closing);
  }
}

/** Errors seen by any connection (protocol errors, failed handshakes). */
export const errors: string[] = [];

const handlers = {
  open(s: BunSocket) {
    s.data.onOpen(s);
  },
  data(s: BunSocket, chunk: Uint8Array) {
    s.data.onData(chunk);
  },
  drain(s: BunSocket) {
    s.data.onDrain();
  },
  close(s: BunSocket) {
    s.data.onClose();
  },
  error(s: BunSocket, error: Error) {
    if (!s.data.closing) errors.push(`connection ${s.data.id}: ${error.message}`);
  },
  connectError(s: BunSocket, error: Error) {
    s.data.onClose();
    errors.push(`connection ${s.data.id} could not connect: ${error.message}`);
  },
};

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Opens `count` connections, at most `parallel` handshakes at a time.
 *
 * @throws {Error} When any connection fails to open.
 */
export async function openAll(
  count: number,
  port: number,
  handler: ConnHandler,
  path: (i: number) => string = () => "/",
  parallel = 256,
  firstId = 0,
): Promise<Conn[]> {
  const conns: Conn[] = [];
  for (let i = 0; i < count; i++) conns.push(new Conn(firstId + i, handler));
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const c = conns[next++]!;
      await c.open(port, path(c.id));
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return conns;
}
