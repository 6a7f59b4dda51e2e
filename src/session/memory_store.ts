/**
 * The in-memory store: replay logs in this process, bounded per stream by count, bytes and
 * age, and across all streams by bytes.
 *
 * @module
 */

import { checkNumber } from "../_check.ts";
import { DEFAULT_WINDOW, type LogWindow, randomId, type SessionStore } from "./store.ts";
import type { Position } from "./wire.ts";

/** One entry, also a link in the store-wide list of entries from oldest to newest. */
interface Entry {
  offset: number;
  at: number;
  text: string;
  log: Log;
  older: Entry | undefined;
  newer: Entry | undefined;
}

/**
 * What keeping an entry costs besides its text (the entry, its place in the lists, the
 * string's header; about 130 bytes of heap on Deno, fewer on Bun): counted in the bounds, so
 * that a log of many small frames cannot hold far more memory than `maxBytes` says.
 */
export const ENTRY_COST = 128;

/**
 * A copy of `text` in one piece. A string built by concatenation is kept by the engines as a
 * tree of its parts (V8's cons strings, JavaScriptCore's ropes), which costs twice the flat
 * text on Deno; slicing a concatenation makes the engine flatten it.
 */
function flat(text: string): string {
  return (" " + text).slice(1);
}

interface Log {
  /** Offset of the last entry appended. */
  last: number;
  /** Index in `entries` of the oldest entry still kept. */
  head: number;
  entries: Entry[];
  bytes: number;
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
    if (!log) this.#logs.set(stream, log = { last: 0, head: 0, entries: [], bytes: 0 });
    return log;
  }

  /** Takes the oldest entry of `log` out of it and out of the store-wide list. */
  #evict(log: Log): void {
    const entry = log.entries[log.head]!;
    log.entries[log.head] = undefined as unknown as Entry; // let it go now, not at compaction
    log.head++;
    log.bytes -= entry.text.length + ENTRY_COST;
    this.#bytes -= entry.text.length + ENTRY_COST;
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
    const text = flat(prefix + offset + suffix);
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
    log.bytes += text.length + ENTRY_COST;
    this.#bytes += text.length + ENTRY_COST;
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
