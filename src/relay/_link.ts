/**
 * The Redis link: one connection (commands pipelined, replies matched in order, pushes to a
 * listener) over the runtime's TCP, and a link that reconnects by itself with its own
 * backoff and reports its health. Internal.
 *
 * @module
 */

import { connectTcp, type TcpStream } from "../adapters/tcp.ts";
import {
  concat,
  encodeCommand,
  isMessage,
  RespError,
  RespParser,
  type RespValue,
} from "./_resp.ts";

/** Who waits for a command's reply. */
export interface ReplyWaiter {
  resolve(value: RespValue): void;
  reject(error: unknown): void;
}

/** One connection: commands pipelined, replies matched in order, pushes to a listener. */
export class RespConnection {
  #tcp: TcpStream;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending: ReplyWaiter[] = [];
  /** Commands encoded in this turn of the event loop, written together at its end. */
  #out: Uint8Array[] = [];
  #onPush: ((message: RespValue[]) => void) | undefined;
  #closed = false;
  /** Resolves when the connection has ended, for any reason. */
  readonly closed: Promise<void>;

  private constructor(tcp: TcpStream) {
    this.#tcp = tcp;
    this.#writer = tcp.writable.getWriter();
    this.closed = this.#read();
  }

  /** Connects. */
  static async open(hostname: string, port: number): Promise<RespConnection> {
    return new RespConnection(await connectTcp(hostname, port));
  }

  /** Where `message` pushes of a subscribed connection go. */
  set onPush(listener: ((message: RespValue[]) => void) | undefined) {
    this.#onPush = listener;
  }

  async #read(): Promise<void> {
    const parser = new RespParser();
    const reader = this.#tcp.readable.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        for (let reply = parser.next(); reply !== undefined; reply = parser.next()) {
          if (this.#onPush && isMessage(reply)) {
            this.#onPush(reply);
            continue;
          }
          const waiter = this.#pending.shift();
          if (reply instanceof RespError) waiter?.reject(reply);
          else waiter?.resolve(reply);
        }
      }
    } catch { /* the connection broke */ }
    this.close();
  }

  /**
   * Sends a command.
   *
   * @returns Its reply.
   * @throws {RespError} For an error reply, or when the connection ends first.
   */
  send(args: readonly (string | number | Uint8Array)[]): Promise<RespValue> {
    if (this.#closed) {
      return Promise.reject(new RespError("Cannot send: the connection is closed", true));
    }
    return new Promise((resolve, reject) => this.post(encodeCommand(args), { resolve, reject }));
  }

  /**
   * Sends an encoded command without a promise: `waiter` gets its reply (a `PUBLISH` sent at
   * full speed, whose reply only matters when it fails). Commands posted in one turn of the
   * event loop go out in one write, in order.
   */
  post(command: Uint8Array, waiter: ReplyWaiter): void {
    if (this.#closed) {
      return waiter.reject(new RespError("Cannot send: the connection is closed", true));
    }
    this.#pending.push(waiter);
    if (this.#out.push(command) === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const out = this.#out;
    this.#out = [];
    if (this.#closed || out.length === 0) return;
    this.#writer.write(concat(out)).catch(() => this.close());
  }

  /** Whether the connection has ended. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Closes; commands still waiting fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tcp.close();
    const error = new RespError("Cannot get a reply: the connection closed", true);
    for (const p of this.#pending.splice(0)) p.reject(error);
  }
}

/** Where a Redis server is, from a `redis://[:password@]host[:port][/db]` URL. */
export interface RedisAddress {
  hostname: string;
  port: number;
  password: string | undefined;
  db: number;
}

/**
 * Reads a Redis URL.
 *
 * @throws {TypeError} When it is not a `redis:` URL.
 */
export function redisAddress(url: string): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`Cannot use Redis at "${url}": not a URL such as redis://127.0.0.1:6379`);
  }
  if (u.protocol !== "redis:") {
    throw new TypeError(`Cannot use Redis at "${url}": only redis: URLs are supported`);
  }
  return {
    hostname: u.hostname || "127.0.0.1",
    port: Number(u.port || 6379),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number(u.pathname.slice(1) || 0),
  };
}

/** The state of a {@linkcode RedisLink}. */
export interface LinkHealth {
  connected: boolean;
  reconnects: number;
  lastError: string | undefined;
}

/**
 * A connection to Redis that comes back by itself: on loss it reconnects with jittered
 * backoff (50 ms up to 5 s), runs `ready` on every new connection (AUTH, SELECT,
 * SUBSCRIBE...), and reports its health.
 */
export class RedisLink {
  #address: RedisAddress;
  #ready: (conn: RespConnection, again: boolean) => Promise<void>;
  #conn: RespConnection | undefined;
  #stopped = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #connecting: Promise<void> | undefined;
  #waiters = new Set<(error?: RespError) => void>();
  readonly health: LinkHealth = { connected: false, reconnects: 0, lastError: undefined };

  /**
   * @param url The Redis URL.
   * @param ready Runs on every new connection before it counts as connected; `again` is
   * true when the link was lost and is back.
   */
  constructor(
    url: string,
    ready: (conn: RespConnection, again: boolean) => Promise<void> = async () => {},
  ) {
    this.#address = redisAddress(url);
    this.#ready = ready;
  }

  /** The live connection, if connected. */
  get connection(): RespConnection | undefined {
    return this.health.connected ? this.#conn : undefined;
  }

  /** Connects, and keeps reconnecting until `close()`; resolves after the first attempt. */
  start(): Promise<void> {
    this.#connecting ??= this.#connect();
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const a = this.#address;
    let conn: RespConnection | undefined;
    try {
      conn = await RespConnection.open(a.hostname, a.port);
      if (this.#stopped) return conn.close();
      if (a.password !== undefined) await conn.send(["AUTH", a.password]);
      if (a.db !== 0) await conn.send(["SELECT", a.db]);
      const again = this.#attempt > 0;
      await this.#ready(conn, again);
      // Closed while this connection was getting ready: it must not outlive the link.
      if (this.#stopped) return conn.close();
      this.#conn = conn;
      if (again) this.health.reconnects++;
      this.#attempt = 0;
      this.health.connected = true;
      for (const wake of [...this.#waiters]) wake();
      const live = conn;
      conn.closed.then(() => this.#lost(live, "connection closed"));
    } catch (error) {
      conn?.close();
      this.health.lastError = error instanceof Error ? error.message : String(error);
      this.#retry();
    }
  }

  #lost(conn: RespConnection, why: string): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.health.connected = false;
    this.health.lastError ??= why;
    this.#retry();
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#attempt++;
    // Its own backoff, full jitter from 50 ms up to 5 s, not the client's.
    const delay = 50 + Math.random() * (Math.min(5000, 50 * 2 ** this.#attempt) - 50);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  /**
   * Sends a command on the live connection.
   *
   * @throws {RespError} When not connected, or for an error reply.
   */
  send(args: readonly (string | number | Uint8Array)[]): Promise<RespValue> {
    const conn = this.connection;
    if (this.#stopped) {
      return Promise.reject(new RespError("Cannot reach Redis: the link is closed"));
    }
    if (!conn) {
      return Promise.reject(
        new RespError(`Cannot reach Redis: ${this.health.lastError ?? "not connected"}`, true),
      );
    }
    return conn.send(args);
  }

  /**
   * Resolves once connected (at once when connected), or rejects after `ms`. Waiters are
   * woken in the order they came, so that what they send keeps that order.
   */
  whenConnected(ms: number): Promise<void> {
    if (this.health.connected) return Promise.resolve();
    if (this.#stopped) {
      return Promise.reject(new RespError("Cannot reach Redis: the link is closed"));
    }
    return new Promise((resolve, reject) => {
      const wake = (error?: RespError) => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(
          new RespError(`Cannot reach Redis within ${ms} ms: ${this.health.lastError}`, true),
        );
      }, ms);
      this.#waiters.add(wake);
    });
  }

  /** Stops reconnecting and closes. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const closed = new RespError("Cannot reach Redis: the link is closed");
    for (const wake of [...this.#waiters]) wake(closed);
    const conn = this.#conn;
    this.#conn = undefined;
    this.health.connected = false;
    if (conn) {
      conn.close();
      await conn.closed;
    }
  }
}
