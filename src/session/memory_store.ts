/**
 * The in-memory store: replay logs in this process, bounded per stream by count, bytes and
 * age, and across all streams by bytes.
 *
 * @module
 */

import { checkNumber } from "../_check.ts";
import { DEFAULT_WINDOW, type LogWindow, randomId, type SessionStore } from "./store.ts";
import type { Position } from "./wire.ts";

/**
 * What keeping an entry costs besides its text (its places in the store's arrays, the
 * string's header; fewer than 128 bytes of heap on Deno and on Bun): counted in the bounds,
 * so that a log of many small frames cannot hold far more memory than `maxBytes` says.
 */
export const ENTRY_COST = 128;

/**
 * `text` in one piece. A string built by concatenation is kept by the engines as a tree of
 * its parts (V8's cons strings, JavaScriptCore's ropes), which costs about twice the flat text
 * on Deno; `trim()` flattens it and, with nothing to trim, answers the flat string itself
 * (a slice would keep a sliced string and its parent).
 */
function flat(text: string): string {
  const trimmed = text.trim();
  return trimmed.length === text.length ? trimmed : (" " + text).slice(1);
}

/**
 * One stream's entries, oldest first, in parallel arrays: an entry is its text and its time,
 * not an object of its own (every entry kept is something the garbage collector walks). The
 * entry at index `i` has the offset `last - (texts.length - 1 - i)`.
 */
interface Log {
  /** Offset of the last entry appended. */
  last: number;
  /** Index in `texts` of the oldest entry still kept. */
  head: number;
  texts: string[];
  /** When each entry was appended, at the same index (typed: nothing for the collector). */
  ats: Float64Array;
  bytes: number;
  /**
   * Its places in the store-wide order that are stale: those of entries its own window took,
   * always its oldest places there.
   */
  stale: number;
  /** Dropped: all its places in the store-wide order are stale. */
  dropped: boolean;
}

const NO_TIMES = new Float64Array(0);

/** The offset of the oldest entry `log` keeps (`last + 1` when it keeps none). */
function firstOffset(log: Log): number {
  return log.last - (log.texts.length - log.head) + 1;
}

/**
 * The in-memory store: logs live in this process, so sessions resume on this server only,
 * and a restart starts a new epoch (every client then learns `recovered: false`).
 *
 * @example Keep five minutes of history
 * ```ts
 * import { MemoryStore, sessions } from "@wskit/wskit/session";
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
  /**
   * The log of every entry appended, oldest first, across streams: what goes first when the
   * store is full. Places of entries that are gone already (evicted by their own log's
   * window, or dropped) are stale and skipped, and swept out once they outnumber the entries
   * kept.
   */
  #order: (Log | undefined)[] = [];
  #orderHead = 0;
  /** Entries kept, across streams. */
  #count = 0;
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
    for (const name of Object.keys(DEFAULT_WINDOW) as (keyof LogWindow)[]) {
      checkNumber(`window.${name}`, this.#window[name], DEFAULT_WINDOW[name]);
    }
    this.#now = now;
  }

  /** Bytes of frames held across every stream, with {@linkcode ENTRY_COST} per entry. */
  get bytes(): number {
    return this.#bytes;
  }

  #log(stream: string): Log {
    let log = this.#logs.get(stream);
    if (!log) {
      log = { last: 0, head: 0, texts: [], ats: NO_TIMES, bytes: 0, stale: 0, dropped: false };
      this.#logs.set(stream, log);
    }
    return log;
  }

  /** Takes the oldest entry out of `log`; `byWindow`: its place in the order goes stale. */
  #evict(log: Log, byWindow: boolean): void {
    if (byWindow) log.stale++;
    const texts = log.texts;
    const size = texts[log.head]!.length + ENTRY_COST;
    texts[log.head] = ""; // let it go now, not at compaction
    log.head++;
    log.bytes -= size;
    this.#bytes -= size;
    this.#count--;
    if (log.head === texts.length) {
      log.texts = [];
      log.ats = NO_TIMES;
      log.head = 0;
    } else if (log.head > 1024 && log.head * 2 > texts.length) {
      // Compact once the dead prefix is as long as what is kept.
      log.texts = texts.slice(log.head);
      log.ats = log.ats.slice(log.head, texts.length);
      log.head = 0;
    }
  }

  /** Evicts entries beyond the window, oldest first. */
  #trim(log: Log, now: number): void {
    const w = this.#window;
    const oldest = now - w.maxAge;
    while (log.head < log.texts.length) {
      const count = log.texts.length - log.head;
      if (count <= w.maxCount && log.bytes <= w.maxBytes && log.ats[log.head]! >= oldest) break;
      this.#evict(log, true);
    }
  }

  /**
   * Evicts the store's oldest entries, whatever their stream, while it holds too much; passes
   * over the places of entries gone already (a log's own window takes its oldest entries, so
   * most are at the head).
   */
  #trimStore(): void {
    const order = this.#order;
    let head = this.#orderHead;
    while (head < order.length) {
      const log = order[head]!;
      // Not stale: every older entry of its log came before it here, and is gone.
      const kept = !log.dropped && log.stale === 0;
      if (kept && this.#bytes <= this.#window.maxTotalBytes) break;
      order[head++] = undefined;
      if (kept) this.#evict(log, false);
      else if (!log.dropped) log.stale--;
    }
    this.#orderHead = head;
    this.#sweepOrder();
  }

  /** Keeps the store-wide order about as long as the entries kept. */
  #sweepOrder(): void {
    let order = this.#order;
    const head = this.#orderHead;
    if (head === order.length) {
      this.#order = [];
      this.#orderHead = 0;
    } else if (head > 1024 && head * 2 > order.length) {
      this.#order = order = order.slice(head);
      this.#orderHead = 0;
    }
    if (this.#order.length - this.#orderHead <= 2 * this.#count + 1024) return;
    const kept: Log[] = [];
    for (let i = this.#orderHead; i < order.length; i++) {
      const log = order[i]!;
      if (log.dropped) continue;
      // A log's stale places are its oldest ones.
      if (log.stale > 0) log.stale--;
      else kept.push(log);
    }
    this.#order = kept;
    this.#orderHead = 0;
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
    const text = flat(prefix + offset + suffix);
    const now = this.#now();
    log.texts.push(text);
    let ats = log.ats;
    const at = log.texts.length - 1;
    if (at === ats.length) {
      log.ats = new Float64Array(Math.max(16, at * 2));
      log.ats.set(ats);
      ats = log.ats;
    }
    ats[at] = now;
    const size = text.length + ENTRY_COST;
    log.bytes += size;
    this.#bytes += size;
    this.#count++;
    this.#order.push(log);
    this.#trim(log, now);
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
    this.#trim(log, this.#now());
    // The entry right after the client's position must still be here.
    const first = firstOffset(log);
    if (first > after + 1) return null;
    return log.texts.slice(log.head + (after + 1 - first));
  }

  /** Forgets a stream. */
  drop(stream: string): void {
    const log = this.#logs.get(stream);
    if (!log) return;
    const kept = log.texts.length - log.head;
    this.#bytes -= log.bytes;
    this.#count -= kept;
    log.dropped = true;
    log.texts = [];
    log.ats = NO_TIMES;
    log.head = 0;
    log.bytes = 0;
    this.#logs.delete(stream);
    this.#sweepOrder();
  }

  /** Forgets every stream. */
  close(): void {
    for (const log of this.#logs.values()) log.dropped = true;
    this.#logs.clear();
    this.#order = [];
    this.#orderHead = 0;
    this.#count = 0;
    this.#bytes = 0;
  }
}
