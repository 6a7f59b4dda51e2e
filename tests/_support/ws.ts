/** A recording WebSocket client for tests, on the runtime's own `WebSocket`. */

import { SUBPROTOCOL, VERSION } from "../../src/session/wire.ts";
import { deferred, within } from "./wait.ts";

/** A message as the test client records it: text as string, binary as bytes. */
export type Received = string | Uint8Array;

/** A connected WebSocket that records every message and its close. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: Received[] = [];
  readonly closed: Promise<CloseEvent>;
  #read = 0;
  #wake: (() => void) | undefined;

  private constructor(ws: WebSocket, closed: Promise<CloseEvent>) {
    this.ws = ws;
    this.closed = closed;
    ws.addEventListener("message", (e) => {
      const d = (e as MessageEvent).data;
      this.messages.push(typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer));
      this.#wake?.();
    });
  }

  /** Opens a connection; rejects with the close code if it fails before opening. */
  static async connect(url: string, protocols?: string | string[]): Promise<TestClient> {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    const closed = deferred<CloseEvent>();
    const opened = deferred<void>();
    ws.addEventListener("open", () => opened.resolve());
    ws.addEventListener("close", (e) => {
      closed.resolve(e as CloseEvent);
      opened.reject(new Error(`closed before open: ${(e as CloseEvent).code}`));
    });
    const client = new TestClient(ws, closed.promise);
    await within(opened.promise, `open of ${url}`);
    return client;
  }

  /** The next message not yet read with `next()`. */
  async next(timeout = 5_000): Promise<Received> {
    const end = Date.now() + timeout;
    while (this.#read >= this.messages.length) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`No message within ${timeout} ms`);
      const woken = new Promise<void>((r) => this.#wake = r);
      await within(Promise.race([woken, this.closed.then(() => {})]), "a message", left)
        .catch(() => {});
      this.#wake = undefined;
      if (this.ws.readyState === WebSocket.CLOSED && this.#read >= this.messages.length) {
        throw new Error("Connection closed while waiting for a message");
      }
    }
    return this.messages[this.#read++]!;
  }

  /** The next message, parsed as JSON. */
  async json<T = Record<string, unknown>>(timeout?: number): Promise<T> {
    const m = await this.next(timeout);
    if (typeof m !== "string") throw new Error("Expected a text message");
    return JSON.parse(m) as T;
  }

  /** Reads messages until one satisfies `match`, returning it. */
  async until(match: (m: Received) => boolean, timeout = 5_000): Promise<Received> {
    const end = Date.now() + timeout;
    while (true) {
      const m = await this.next(Math.max(1, end - Date.now()));
      if (match(m)) return m;
    }
  }

  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    this.ws.send(data as string);
  }

  /** Closes and waits for the close event. */
  async close(code?: number, reason?: string): Promise<CloseEvent> {
    if (this.ws.readyState < WebSocket.CLOSING) this.ws.close(code, reason);
    return await within(this.closed, "the close event");
  }
}

/** What a session server's welcome carries that the tests read. */
export interface Welcome {
  sid: string;
  pid: string;
  recovered: boolean;
  q: number;
}

/**
 * A raw connection in the session subprotocol that has said hello (with `hello`'s extra
 * fields, such as a `sid` to resume), and the server's welcome.
 */
export async function helloSession(
  url: string,
  hello: Record<string, unknown> = {},
): Promise<[TestClient, Welcome]> {
  const raw = await TestClient.connect(url, SUBPROTOCOL);
  raw.send(JSON.stringify({ t: "hello", v: VERSION, ...hello }));
  return [raw, await raw.json<Welcome & Record<string, unknown>>()];
}
