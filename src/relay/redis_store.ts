/**
 * `RedisStore`: the session layer's replay logs (Redis Streams) and session records in Redis,
 * shared by every instance, so that a client resumes wherever it lands.
 *
 * @module
 */

import type { Position } from "../session/wire.ts";
import {
  DEFAULT_WINDOW,
  type LogWindow,
  type PresenceEntry,
  type PresenceWrite,
  randomId,
  type SessionRecord,
  type SessionStore,
} from "../session/store.ts";
import { RedisLink } from "./_link.ts";
import { RespError, type RespValue, text } from "./_resp.ts";

/** Options of {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  /**
   * The Redis server.
   *
   * @default {"redis://127.0.0.1:6379"}
   */
  url?: string;
  /**
   * The prefix of every key the store writes.
   *
   * @default {"wskit"}
   */
  prefix?: string;
  /** How much history each stream keeps (bytes are not enforced: Redis counts entries). */
  window?: LogWindow;
  /**
   * Milliseconds a command may wait for Redis to come back (it is sent again after a lost
   * connection: every write is keyed, so none is recorded twice) before it fails.
   *
   * @default {5000}
   */
  timeout?: number;
}

// Append atomically, once per key: a key seen before answers its offset and writes nothing;
// else the epoch exists, the next offset, the entry (id 0-offset), the bound, the key. The
// answer carries the epoch, so that a Redis that lost its data is noticed at once.
const APPEND = `
if KEYS[4] ~= '' then
  local seen = redis.call('GET', KEYS[4])
  if seen then return {tonumber(seen), redis.call('GET', KEYS[3])} end
end
redis.call('SET', KEYS[3], ARGV[5], 'NX')
local o = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '0-' .. o, 'f', ARGV[1] .. o .. ARGV[2], 'a', ARGV[4])
if ARGV[6] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
if KEYS[4] ~= '' then redis.call('SET', KEYS[4], o, 'PX', ARGV[7]) end
return {o, redis.call('GET', KEYS[3])}`;

// Presence: a hash per room (public id to "owner json"), a lease key per instance. A member
// counts only while its owner's lease holds. Set: refused when full (ARGV[3] > 0), the
// owner's lease made sure of (answers 2 when it had lapsed), the room kept from expiring.
const PRESENCE_SET = `
local max = tonumber(ARGV[3])
if max > 0 and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= max then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if redis.call('SET', KEYS[2], '1', 'PX', ARGV[5], 'NX') then return 2 end
return 1`;

// Removes the members ARGV[2..] that owner ARGV[1] still holds.
const PRESENCE_REMOVE = `
local mark = ARGV[1] .. ' '
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and string.sub(v, 1, #mark) == mark then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0`;

// The members whose owner holds a lease (ARGV[1] is the prefix of lease keys); the others go.
const PRESENCE_READ = `
local all = redis.call('HGETALL', KEYS[1])
local alive = {}
local out = {}
for i = 1, #all, 2 do
  local v = all[i + 1]
  local owner = string.sub(v, 1, (string.find(v, ' ', 1, true) or 1) - 1)
  if alive[owner] == nil then alive[owner] = redis.call('EXISTS', ARGV[1] .. owner) == 1 end
  if alive[owner] then
    out[#out + 1] = all[i]
    out[#out + 1] = v
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return out`;

// Renews the lease KEYS[1] (answers whether it was there), keeps ARGV[4] rooms from
// expiring, and answers which of the owners after them hold a lease.
const PRESENCE_BEAT = `
local had = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'GET')
local n = tonumber(ARGV[4])
for i = 5, 4 + n do redis.call('PEXPIRE', ARGV[i], ARGV[2]) end
local out = {had and 1 or 0}
for i = 5 + n, #ARGV do out[#out + 1] = redis.call('EXISTS', ARGV[3] .. ARGV[i]) end
return out`;

/**
 * Session logs and records in Redis, shared by every instance: offsets are the same
 * everywhere, so a client resumes wherever it lands. Use it with a {@linkcode RedisRelay}
 * (so that instances hand sessions over to each other), and keep session `data`
 * JSON-serializable.
 *
 * @example Sessions that resume on any instance
 * ```ts
 * import { serve } from "@wskit/wskit";
 * import { sessions } from "@wskit/wskit/session";
 * import { RedisRelay, RedisStore } from "@wskit/wskit/redis";
 *
 * const url = "redis://127.0.0.1:6379";
 * const app = sessions({ store: new RedisStore({ url }) });
 * await serve(app.hooks, { port: 8000, relay: new RedisRelay({ url }) });
 * ```
 */
export class RedisStore implements SessionStore {
  /** Every instance sees the same logs. */
  readonly shared = true;
  #link: RedisLink;
  #prefix: string;
  #window: Required<LogWindow>;
  #timeout: number;
  #started: Promise<void> | undefined;
  #epochSeen: string | undefined;

  /**
   * Creates the store; it connects on first use.
   *
   * @param options Where Redis is, the key prefix, the window, how long to wait for Redis.
   * @throws {TypeError} When the URL is not a `redis:` URL.
   */
  constructor(options: RedisStoreOptions = {}) {
    this.#link = new RedisLink(options.url ?? "redis://127.0.0.1:6379");
    this.#prefix = options.prefix ?? "wskit";
    this.#window = { ...DEFAULT_WINDOW, ...options.window };
    this.#timeout = options.timeout ?? 5_000;
  }

  /**
   * Sends a command, and sends it again on a new connection when the old one broke, until
   * the timeout: every command of the store may run twice without effect (writes are keyed).
   */
  async #send(args: (string | number | Uint8Array)[]): Promise<RespValue> {
    this.#started ??= this.#link.start();
    await this.#started;
    const deadline = Date.now() + this.#timeout;
    while (true) {
      const left = deadline - Date.now();
      try {
        if (!this.#link.health.connected) await this.#link.whenConnected(Math.max(left, 0));
        return await this.#link.send(args);
      } catch (error) {
        if (!(error instanceof RespError) || !error.transient || Date.now() >= deadline) {
          throw error;
        }
      }
    }
  }

  #keys(stream: string): [string, string, string] {
    const p = this.#prefix;
    return [`${p}:n:${stream}`, `${p}:x:${stream}`, `${p}:epoch`];
  }

  /** Appends a frame once per key; returns its offset. */
  async append(stream: string, prefix: string, suffix: string, key?: string): Promise<number> {
    const [counter, log, epoch] = this.#keys(stream);
    // A session's own stream expires with the session; a room's stays.
    const ttl = stream.startsWith("s:") ? this.#window.maxAge * 2 : 0;
    const reply = await this.#send([
      "EVAL",
      APPEND,
      4,
      counter,
      log,
      epoch,
      key === undefined ? "" : `${this.#prefix}:once:${key}`,
      prefix,
      suffix,
      this.#window.maxCount,
      Date.now(),
      randomId(9),
      ttl,
      this.#window.maxAge * 2,
    ]) as RespValue[];
    this.#epochSeen = text(reply[1]);
    return Number(reply[0]);
  }

  /**
   * The epoch of the history as of the last append or position read. When Redis loses its
   * data (a restart without persistence), a new epoch starts and offsets count from 1 again;
   * the session layer tells its clients before it sends them anything of the new epoch.
   */
  get epoch(): string | undefined {
    return this.#epochSeen;
  }

  async #epoch(): Promise<string> {
    const key = `${this.#prefix}:epoch`;
    await this.#send(["SET", key, randomId(9), "NX"]);
    return this.#epochSeen = text(await this.#send(["GET", key]));
  }

  /** The stream's epoch and last offset. */
  async position(stream: string): Promise<Position> {
    const [counter] = this.#keys(stream);
    const epoch = await this.#epoch();
    return [epoch, Number(text(await this.#send(["GET", counter])) || 0)];
  }

  /** The frames after `from`, or `null` when some are gone or the epoch differs. */
  async since(stream: string, from: Position): Promise<string[] | null> {
    const [epoch, last] = await this.position(stream);
    const after = from[1];
    if (from[0] !== epoch || after > last || after < 0) return null;
    if (after === last) return [];
    const [, log] = this.#keys(stream);
    const entries = await this.#send(["XRANGE", log, `0-${after + 1}`, "+"]) as RespValue[];
    const first = entries[0] as [Uint8Array, RespValue[]] | undefined;
    if (!first || text(first[0]) !== `0-${after + 1}`) return null;
    const oldest = Date.now() - this.#window.maxAge;
    const out: string[] = [];
    for (const entry of entries as [Uint8Array, RespValue[]][]) {
      const fields = entry[1];
      const at = Number(text(fields[3]));
      if (out.length === 0 && at < oldest) return null;
      out.push(text(fields[1]));
    }
    return out;
  }

  /** Forgets a stream. */
  async drop(stream: string): Promise<void> {
    const [counter, log] = this.#keys(stream);
    await this.#send(["DEL", counter, log]);
  }

  /** Saves a session record; `ttl` (ms) makes it expire unless saved again. */
  async saveSession(record: SessionRecord, ttl?: number): Promise<void> {
    const key = `${this.#prefix}:session:${record.sid}`;
    const json = JSON.stringify(record);
    await this.#send(ttl ? ["SET", key, json, "PX", Math.ceil(ttl)] : ["SET", key, json]);
  }

  /** Loads a session record. */
  async loadSession(sid: string): Promise<SessionRecord | undefined> {
    const value = await this.#send(["GET", `${this.#prefix}:session:${sid}`]);
    if (value === null) return undefined;
    try {
      return JSON.parse(text(value)) as SessionRecord;
    } catch {
      return undefined;
    }
  }

  /** Forgets a session record. */
  async removeSession(sid: string): Promise<void> {
    await this.#send(["DEL", `${this.#prefix}:session:${sid}`]);
  }

  #room(room: string): string {
    return `${this.#prefix}:pr:${room}`;
  }

  #lease(owner = ""): string {
    return `${this.#prefix}:pl:${owner}`;
  }

  /** Sets a presence member; 0 when the room is full, 2 when the owner's lease had lapsed. */
  async presenceSet({ room, pid, owner, json, max, lease }: PresenceWrite): Promise<number> {
    const keys = [this.#room(room), this.#lease(owner)];
    const args = [pid, `${owner} ${json}`, max, lease * 3, lease];
    return Number(await this.#send(["EVAL", PRESENCE_SET, 2, ...keys, ...args]));
  }

  /** Removes the members `pids` of `room` that `owner` still holds. */
  async presenceRemove(room: string, owner: string, pids: string[]): Promise<void> {
    await this.#send(["EVAL", PRESENCE_REMOVE, 1, this.#room(room), owner, ...pids]);
  }

  /** The members of `room` whose owner's lease holds. */
  async presenceRead(room: string): Promise<PresenceEntry[]> {
    const flat = await this.#send(["EVAL", PRESENCE_READ, 1, this.#room(room), this.#lease()]);
    const out: PresenceEntry[] = [];
    const items = flat as Uint8Array[];
    for (let i = 0; i + 1 < items.length; i += 2) {
      const v = text(items[i + 1]!);
      const space = v.indexOf(" ");
      out.push([text(items[i]!), v.slice(0, space), v.slice(space + 1)]);
    }
    return out;
  }

  /** Renews `owner`'s lease; answers whether it held, and which of `others` hold theirs. */
  async presenceBeat(
    owner: string,
    lease: number,
    rooms: string[],
    others: string[],
  ): Promise<{ renewed: boolean; alive: boolean[] }> {
    const args = [
      lease,
      lease * 3,
      this.#lease(),
      rooms.length,
      ...rooms.map((r) => this.#room(r)),
    ];
    const reply = await this.#send([
      "EVAL",
      PRESENCE_BEAT,
      1,
      this.#lease(owner),
      ...args,
      ...others,
    ]) as number[];
    return { renewed: Number(reply[0]) === 1, alive: reply.slice(1).map((n) => Number(n) === 1) };
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#link.close();
  }
}
