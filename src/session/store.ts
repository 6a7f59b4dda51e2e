/**
 * The store seam: where the session layer keeps its replay logs, the {@linkcode SessionStore}
 * interface that `MemoryStore` and `RedisStore` implement. A log is bounded by count, bytes
 * and age; an entry that fell out of it cannot be replayed, and the client is told so
 * (`recovered: false`), never left with a silent gap. A shared store (Redis, `./redis`) lets
 * a client resume on another server. A leaf.
 *
 * @module
 */

import type { Position } from "./types.ts";

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
   * Bytes of frames per stream (counted as UTF-16 code units, one per ASCII character, plus
   * 128 per entry for what keeping it costs besides its text).
   *
   * @default {8388608}
   */
  maxBytes?: number;
  /**
   * Bytes of frames across every stream of the store, counted as `maxBytes` counts them: past
   * it the oldest entries of the whole store go first, whatever their stream (a client that
   * then needs them is told that it cannot recover them, never left with a silent gap).
   * `RedisStore` leaves this to Redis (`maxmemory`).
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
  /**
   * Presence in a shared store: sets a member (see {@linkcode PresenceWrite}).
   *
   * @returns 0 refused (full), 1 set, 2 set but the owner's lease had lapsed (its other
   * members may be gone from the store: assert them again).
   */
  presenceSet?(write: PresenceWrite): Maybe<number>;
  /** Removes the members `pids` of `room` that `owner` still holds. */
  presenceRemove?(room: string, owner: string, pids: string[]): Maybe<void>;
  /** The members of `room` whose owner's lease holds (the others are removed). */
  presenceRead?(room: string): Maybe<PresenceEntry[]>;
  /**
   * Renews `owner`'s lease for `lease` ms and keeps `rooms` from expiring.
   *
   * @returns Whether the lease was still there, and which of `others` hold a lease.
   */
  presenceBeat?(
    owner: string,
    lease: number,
    rooms: string[],
    others: string[],
  ): Maybe<{ renewed: boolean; alive: boolean[] }>;
}

/** A presence member as a shared store keeps it: public id, owning instance, data (JSON). */
export type PresenceEntry = [pid: string, owner: string, json: string];

/**
 * A presence member to set: member `pid` of `room`, held by instance `owner`, shown as `json`.
 * With `max` > 0, a new member is refused when the room has `max` already. The owner's lease,
 * if it had lapsed, is taken again for `lease` ms.
 */
export interface PresenceWrite {
  /** The room. */
  room: string;
  /** The member: its session's public id. */
  pid: string;
  /** The instance that holds the member. */
  owner: string;
  /** What the member shows, as JSON. */
  json: string;
  /** The most members the room may have for a new one to be set; 0 for no limit. */
  max: number;
  /** The owner's lease, in milliseconds. */
  lease: number;
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
  /** Its presence data (JSON), by room (with presence on). */
  presence?: [room: string, json: string][];
}

/** The defaults of {@linkcode LogWindow}. */
export const DEFAULT_WINDOW: Required<LogWindow> = {
  maxAge: 120_000,
  maxCount: 10_000,
  maxBytes: 8 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
};

/** A random identifier: `bytes` random bytes, base64url without padding. */
export function randomId(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
