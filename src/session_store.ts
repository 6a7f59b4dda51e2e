/**
 * Where the session layer keeps its replay logs: the {@linkcode SessionStore} interface and
 * the in-memory store. A log is bounded by count, bytes and age; an entry that fell out of
 * it cannot be replayed, and the client is told so (`recovered: false`), never left with a
 * silent gap. A shared store (Redis, `./redis`) lets a client resume on another server.
 *
 * @module
 */

import type { Position } from "./protocol.ts";

export type { Position } from "./protocol.ts";

/** How much history a stream keeps for replay. */
export interface LogWindow {
  /**
   * How long an entry stays replayable, and how long a disconnected session is kept, in
   * milliseconds.
   *
   * @default {120000}
   */
  maxAge?: number;
  /**
   * Entries per stream.
   *
   * @default {10000}
   */
  maxCount?: number;
  /**
   * Bytes of frames per stream (counted as UTF-16 code units, one per ASCII character).
   *
   * @default {8388608}
   */
  maxBytes?: number;
  /**
   * Bytes of frames across every stream of the store: past it the oldest entries of the
   * whole store go first, whatever their stream (a client that then needs them is told that
   * it cannot recover them, never left with a silent gap). `RedisStore` leaves this to Redis
   * (`maxmemory`).
   *
   * @default {67108864}
   */
  maxTotalBytes?: number;
}

/** A value or a promise of it: the in-memory store answers at once, a shared one later. */
export type Maybe<T> = T | Promise<T>;

/**
 * Replay logs, one per stream (a room, or one session's own messages). Offsets count from 1
 * within a stream; the epoch names the store's history, and changes when it is lost.
 */
export interface SessionStore {
  /**
   * Appends the frame `prefix + offset + suffix` to `stream`, assigning the next offset.
   * A store that may fail after it wrote (a network store) keeps `key` for the window: an
   * append with a key it has already seen writes nothing and answers the first offset, so
   * that a retried or re-handled write is recorded once.
   *
   * @returns The offset.
   */
  append(stream: string, prefix: string, suffix: string, key?: string): Maybe<number>;
  /** The stream's current position: the epoch and the last offset (0 when empty). */
  position(stream: string): Maybe<Position>;
  /**
   * The frames after `from`, in order.
   *
   * @returns The frames, or `null` when the epoch differs or some were evicted.
   */
  since(stream: string, from: Position): Maybe<string[] | null>;
  /** Forgets a stream (a session's own stream, once the session has ended). */
  drop(stream: string): Maybe<void>;
  /** Releases what the store holds open (connections, timers). */
  close(): Maybe<void>;
  /**
   * The epoch of the store's history as of its last answer, for a store that can lose its
   * history while the application runs (a shared store whose server restarted empty): a
   * change tells the session layer that every stream started over.
   */
  readonly epoch?: string | undefined;
  /**
   * Whether every instance of the application sees the same logs (a shared store such as
   * Redis): offsets are then the same everywhere and a session can resume on any instance.
   */
  readonly shared?: boolean;
  /** Saves what a session needs to resume elsewhere; `ttl` (ms) lets it expire. */
  saveSession?(record: SessionRecord, ttl?: number): Maybe<void>;
  /** Loads a session saved by any instance. */
  loadSession?(sid: string): Maybe<SessionRecord | undefined>;
  /** Forgets a session. */
  removeSession?(sid: string): Maybe<void>;
}

/** What a shared store keeps of a session, so that another instance can resume it. */
export interface SessionRecord {
  /** The secret session id. */
  sid: string;
  /** The public id. */
  pid: string;
  /** The identity the session is bound to. */
  identity: string;
  /** The session's data (JSON). */
  data: unknown;
  /** Its rooms. */
  rooms: string[];
  /** The last client sequence number handled. */
  lastSeq: number;
}

/** The defaults of {@linkcode LogWindow}. */
export const DEFAULT_WINDOW: Required<LogWindow> = {
  maxAge: 120_000,
  maxCount: 10_000,
  maxBytes: 8 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
};

/** One entry, also a link in the store-wide list of entries from oldest to newest. */
interface Entry {
  offset: number;
  at: number;
  text: string;
  log: Log;
  older: Entry | undefined;
  newer: Entry | undefined;
}

interface Log {
  /** Offset of the last entry appended. */
  last: number;
  /** Index in `entries` of the oldest entry still kept. */
  head: number;
  entries: Entry[];
  bytes: number;
}

/** A random identifier: `bytes` random bytes, base64url without padding. */
export function randomId(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * The in-memory store: logs live in this process, so sessions resume on this server only,
 * and a restart starts a new epoch (every client then learns `recovered: false`).
 *
 * @example Keep five minutes of history
 * ```ts ignore
 * import { MemoryStore, sessions } from "jsr:@wskit/wskit/session";
 *
 * const app = sessions({ store: new MemoryStore({ maxAge: 300_000 }) });
 * ```
 */
export class MemoryStore implements SessionStore {
  /** The epoch of this store's history. */
  readonly epoch: string = randomId(9);
  #window: Required<LogWindow>;
  #logs = new Map<string, Log>();
  #now: () => number;
  /** Every entry kept, oldest first, across streams: what goes when the store is full. */
  #oldest: Entry | undefined;
  #newest: Entry | undefined;
  #bytes = 0;

  /**
   * Creates an empty store.
   *
   * @param window How much history each stream, and the whole store, keeps.
   * @param now The clock, for tests.
   * @throws {RangeError} When a bound is not a positive number.
   */
  constructor(window: LogWindow = {}, now: () => number = Date.now) {
    this.#window = { ...DEFAULT_WINDOW, ...window };
    for (const [name, value] of Object.entries(this.#window)) {
      if (typeof value !== "number" || !(value > 0)) {
        throw new RangeError(`Cannot configure the log window: ${name} must be > 0, got ${value}`);
      }
    }
    this.#now = now;
  }

  /** Bytes of frames held across every stream. */
  get bytes(): number {
    return this.#bytes;
  }

  #log(stream: string): Log {
    let log = this.#logs.get(stream);
    if (!log) this.#logs.set(stream, log = { last: 0, head: 0, entries: [], bytes: 0 });
    return log;
  }

  /** Takes the oldest entry of `log` out of it and out of the store-wide list. */
  #evict(log: Log): void {
    const entry = log.entries[log.head]!;
    log.entries[log.head] = undefined as unknown as Entry; // let it go now, not at compaction
    log.head++;
    log.bytes -= entry.text.length;
    this.#bytes -= entry.text.length;
    this.#unlink(entry);
    // Compact once the dead prefix is as long as what is kept.
    if (log.head > 1024 && log.head * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.head);
      log.head = 0;
    }
  }

  #unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    entry.older = entry.newer = undefined;
  }

  /** Evicts entries beyond the window, oldest first. */
  #trim(log: Log): void {
    const w = this.#window;
    const oldest = this.#now() - w.maxAge;
    while (log.head < log.entries.length) {
      const entry = log.entries[log.head]!;
      const count = log.entries.length - log.head;
      if (count <= w.maxCount && log.bytes <= w.maxBytes && entry.at >= oldest) break;
      this.#evict(log);
    }
  }

  /** Evicts the store's oldest entries, whatever their stream, while it holds too much. */
  #trimStore(): void {
    while (this.#bytes > this.#window.maxTotalBytes && this.#oldest) {
      this.#evict(this.#oldest.log);
    }
  }

  /**
   * Appends `prefix + offset + suffix` to `stream`. The key is not needed: an append in
   * memory cannot fail after it wrote.
   *
   * @returns The new entry's offset.
   */
  append(stream: string, prefix: string, suffix: string, _key?: string): number {
    const log = this.#log(stream);
    const offset = ++log.last;
    const text = prefix + offset + suffix;
    const entry: Entry = {
      offset,
      at: this.#now(),
      text,
      log,
      older: this.#newest,
      newer: undefined,
    };
    if (this.#newest) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
    log.entries.push(entry);
    log.bytes += text.length;
    this.#bytes += text.length;
    this.#trim(log);
    this.#trimStore();
    return offset;
  }

  /** The stream's epoch and last offset. */
  position(stream: string): Position {
    return [this.epoch, this.#logs.get(stream)?.last ?? 0];
  }

  /**
   * The frames after `from`.
   *
   * @returns The frames, or `null` when some are gone or the epoch differs.
   */
  since(stream: string, from: Position): string[] | null {
    if (from[0] !== this.epoch) return null;
    const log = this.#logs.get(stream);
    const after = from[1];
    if (!log) return after === 0 ? [] : null;
    if (after > log.last || after < 0) return null;
    if (after === log.last) return [];
    this.#trim(log);
    const first = log.entries[log.head];
    // The entry right after the client's position must still be here.
    if (!first || first.offset > after + 1) return null;
    const out: string[] = [];
    for (let i = log.head + (after + 1 - first.offset); i < log.entries.length; i++) {
      out.push(log.entries[i]!.text);
    }
    return out;
  }

  /** Forgets a stream. */
  drop(stream: string): void {
    const log = this.#logs.get(stream);
    if (!log) return;
    while (log.head < log.entries.length) this.#evict(log);
    this.#logs.delete(stream);
  }

  /** Forgets every stream. */
  close(): void {
    this.#logs.clear();
    this.#oldest = this.#newest = undefined;
    this.#bytes = 0;
  }
}
