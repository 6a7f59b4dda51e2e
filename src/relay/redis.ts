/**
 * Redis for many processes and machines, with no package: `RedisRelay` carries topic
 * publishes between instances over Redis pub/sub, and `RedisStore` keeps the session layer's
 * replay logs (Redis Streams) and session records, so that a client resumes on any instance.
 * Both speak RESP over the runtime's TCP (`Deno.connect`, `Bun.connect`).
 *
 * When Redis goes away, every instance keeps serving its own clients; the relay reconnects
 * with backoff and reports its health in `stats().relay`. Publishes made meanwhile are kept
 * in a bounded buffer and sent once the link is back (past the bound they are dropped and
 * counted). Redis pub/sub itself is at-most-once: an instance whose subscription is down
 * misses what others publish then; session clients get it back from the store's replay.
 *
 * @example Two instances, one room
 * ```ts
 * import { serve } from "@wskit/wskit";
 * import { RedisRelay } from "@wskit/wskit/redis";
 *
 * await serve({
 *   open: (peer) => peer.subscribe("chat"),
 *   message: (peer, m) => peer.publish("chat", m, { self: true }),
 * }, { port: 8000, relay: new RedisRelay({ url: "redis://127.0.0.1:6379" }) });
 * ```
 *
 * @module
 */

import type { Relay, RelayDeliver, RelayStats } from "../server/relay.ts";
import { randomId } from "../session/store.ts";
import { OutageBuffer, type OutageOptions, RelayPacker, unpackRelay } from "./_envelope.ts";
import { RedisLink, type ReplyWaiter, type RespConnection } from "./_link.ts";
import { encodePrefix, type RespValue, withLast } from "./_resp.ts";

export { RedisStore, type RedisStoreOptions } from "./redis_store.ts";
export type { OutageOptions } from "./_envelope.ts";

/** Options of {@linkcode RedisRelay}. */
export interface RedisRelayOptions extends OutageOptions {
  /**
   * The Redis server, `redis://[:password@]host[:port][/db]`.
   *
   * @default {"redis://127.0.0.1:6379"}
   */
  url?: string;
  /**
   * The pub/sub channel; instances of one application use the same one.
   *
   * @default {"wskit"}
   */
  channel?: string;
  /**
   * Milliseconds to wait after the link comes back before sending what was buffered, so that
   * the other instances have resubscribed.
   *
   * @default {500}
   */
  settle?: number;
}

/**
 * Carries publishes between instances over a Redis pub/sub channel: one connection to
 * publish (in order), one to subscribe. Each instance drops its own messages.
 *
 * @example Two instances, one room
 * ```ts
 * import { serve } from "@wskit/wskit";
 * import { RedisRelay } from "@wskit/wskit/redis";
 *
 * await serve({
 *   open: (peer) => peer.subscribe("chat"),
 *   message: (peer, m) => peer.publish("chat", m, { self: true }),
 * }, { port: 8000, relay: new RedisRelay({ url: "redis://127.0.0.1:6379" }) });
 * ```
 */
export class RedisRelay implements Relay {
  #origin = randomId(9);
  #packer = new RelayPacker(this.#origin);
  #channel: string;
  #publishPrefix: Uint8Array;
  // A publish in flight when the link breaks may or may not have been delivered: counted.
  #publishWaiter: ReplyWaiter = { resolve() {}, reject: () => void this.#lost++ };
  #pub: RedisLink;
  #sub: RedisLink;
  #buffer: OutageBuffer;
  #deliver: RelayDeliver | undefined;
  #restored: (() => void) | undefined;
  #settle: number;
  #flushing = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #published = 0;
  #received = 0;
  #lost = 0;

  /**
   * Creates the relay; it connects when the endpoint starts it.
   *
   * @param options Where Redis is, the channel, the outage buffer.
   * @throws {TypeError} When the URL is not a `redis:` URL.
   */
  constructor(options: RedisRelayOptions = {}) {
    const url = options.url ?? "redis://127.0.0.1:6379";
    this.#channel = options.channel ?? "wskit";
    this.#publishPrefix = encodePrefix(["PUBLISH", this.#channel], 3);
    this.#buffer = new OutageBuffer(options);
    this.#settle = options.settle ?? 500;
    this.#pub = new RedisLink(url, () => {
      // Back after an outage: let the others resubscribe, then send what waited.
      if (this.#buffer.size > 0) this.#scheduleFlush();
      return Promise.resolve();
    });
    this.#sub = new RedisLink(url, async (conn: RespConnection, again: boolean) => {
      conn.onPush = (message: RespValue[]) => this.#message(message[2]);
      await conn.send(["SUBSCRIBE", this.#channel]);
      // Subscribed again: what the others published meanwhile never came.
      if (again) queueMicrotask(() => this.#restored?.());
    });
  }

  /**
   * Connects both links (and keeps reconnecting them).
   *
   * @param deliver Receives the other instances' publishes.
   * @param restored Called when the subscription is back after an outage.
   */
  async start(deliver: RelayDeliver, restored?: () => void): Promise<void> {
    this.#deliver = deliver;
    this.#restored = restored;
    await Promise.all([this.#pub.start(), this.#sub.start()]);
  }

  #message(payload: RespValue | undefined): void {
    if (!(payload instanceof Uint8Array)) return;
    const m = unpackRelay(payload);
    if (!m || m.origin === this.#origin) return;
    this.#received++;
    this.#deliver?.(m.topic, m.data);
  }

  /** Publishes now, or keeps the publish for when the link is back. */
  publish(topic: string, data: string | Uint8Array): void {
    const packed = this.#packer.pack(topic, data);
    const conn = this.#pub.connection;
    // While a buffer is waiting, new publishes queue behind it: order per publisher holds.
    if (!conn || this.#flushing || this.#buffer.size > 0) {
      this.#buffer.push(packed);
      if (conn && !this.#flushing) this.#scheduleFlush();
      return;
    }
    this.#send(conn, packed);
  }

  #send(conn: RespConnection, packed: Uint8Array): void {
    this.#published++;
    conn.post(withLast(this.#publishPrefix, packed), this.#publishWaiter);
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = setTimeout(() => {
      this.#flushing = false;
      const conn = this.#pub.connection;
      if (!conn) return;
      for (const packed of this.#buffer.drain()) this.#send(conn, packed);
    }, this.#settle);
  }

  /** Health and counters: `dropped` counts buffer overflows and publishes lost in flight. */
  stats(): RelayStats {
    const health = [this.#pub.health, this.#sub.health];
    const lastError = health.map((h) => h.lastError).find((e) => e !== undefined);
    return {
      connected: health.every((h) => h.connected),
      published: this.#published,
      received: this.#received,
      buffered: this.#buffer.size,
      dropped: this.#buffer.dropped + this.#lost,
      reconnects: Math.max(...health.map((h) => h.reconnects)),
      ...(lastError === undefined ? {} : { lastError }),
    };
  }

  /** Closes both links. */
  async close(): Promise<void> {
    clearTimeout(this.#flushTimer);
    await Promise.all([this.#pub.close(), this.#sub.close()]);
  }
}
