/**
 * One raw-TCP WebSocket client connection of the load client: the handshake, pong replies to
 * the server's pings, and frame dispatch to the scenario, over the suite's TCP connection
 * (`tests/_support/tcp.ts`, `Bun.connect` on Bun) and wire format
 * (`tests/_support/ws_wire.ts`). No `WebSocket` object, no event per message: the load client
 * must cost far less per message than the servers it measures.
 *
 * @module
 */

import { connectTcp, type TcpConn, upgradeRequest } from "../../tests/_support/tcp.ts";
import {
  clientFrame,
  FrameParser,
  handshakeResponse,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
} from "../../tests/_support/ws_wire.ts";

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

/** Errors seen by any connection (protocol errors, failed handshakes). */
export const errors: string[] = [];

/**
 * Bytes on the wire so far, both directions, every connection: TCP payload (frame headers,
 * control frames and the handshakes included), read at the edges of a measurement window.
 */
export const wire = { bytes: 0 };

/** The close frame (1000) the client sends and answers with. */
const CLOSE_1000 = clientFrame(OP_CLOSE, new Uint8Array([0x03, 0xe8]));

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
  #tcp: TcpConn | undefined;
  #handler: ConnHandler;
  #parser = new FrameParser();
  #head: Uint8Array | null = null;
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

  /** Connects and completes the WebSocket handshake for `path`, with `headers` added. */
  async open(port: number, path: string, headers: Record<string, string> = {}): Promise<void> {
    let tcp;
    try {
      tcp = await connectTcp(port);
    } catch (e) {
      throw new Error(`Cannot connect connection ${this.id}: ${(e as Error).message}`);
    }
    this.#tcp = tcp;
    const opened = new Promise<void>((resolve, reject) => this.#opened = { resolve, reject });
    tcp.onData((chunk) => this.#onData(chunk));
    tcp.closed.then(() => this.#onClose());
    const request = upgradeRequest(path, { host: `127.0.0.1:${port}`, ...headers });
    wire.bytes += request.length;
    tcp.write(request);
    await opened;
  }

  /** Queues `bytes` for writing, in order; the caller may reuse `bytes` afterwards. */
  write(bytes: Uint8Array): void {
    if (this.ended || !this.#tcp) return;
    wire.bytes += bytes.length;
    this.#tcp.write(bytes);
  }

  /** Sends a close frame (1000); the server's answer ends the connection. */
  close(): void {
    if (this.closing || this.ended) return;
    this.closing = true;
    this.write(CLOSE_1000);
  }

  #closeFrame(): void {
    // The server's close frame: answer it (unless this side started) and end the connection.
    if (!this.closing) {
      this.closing = true;
      this.write(CLOSE_1000);
    }
    this.#tcp?.close();
  }

  #failOpen(e: Error): void {
    const o = this.#opened;
    this.#opened = undefined;
    o?.reject(new Error(`Cannot connect connection ${this.id}: ${e.message}`));
  }

  #onData(chunk: Uint8Array): void {
    this.#now = performance.now();
    wire.bytes += chunk.length;
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
      this.closing = true;
      this.#tcp?.close();
    }
  }

  #onClose(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.#opened) {
      this.#failOpen(new Error("closed during the handshake"));
      return;
    }
    this.#handler.closed(this, this.closing);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Opens `count` connections, at most `parallel` handshakes at a time, each upgrade request
 * with `headers` added.
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
  headers: Record<string, string> = {},
): Promise<Conn[]> {
  const conns: Conn[] = [];
  for (let i = 0; i < count; i++) conns.push(new Conn(firstId + i, handler));
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const c = conns[next++]!;
      await c.open(port, path(c.id), headers);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return conns;
}
