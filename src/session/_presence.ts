/**
 * Presence, server side: who is in each room. Every room member is a presence member, keyed
 * by its session's public id (so a reconnect within the window changes nothing), with public
 * data (JSON). In one process the members live here; with a shared store that can keep them
 * (`RedisStore`), the store holds every instance's members, each under its instance's lease,
 * and each instance keeps a view of the rooms its sessions are in, kept current by the
 * relay and by a heartbeat that renews its lease and notices the instances whose lease
 * lapsed. Internal.
 *
 * @module
 */

import { utf8Length } from "../_utf8.ts";
import type { PresenceMember, PresenceOptions } from "./api.ts";
import { RemoteError } from "./errors.ts";
import { randomId } from "./store.ts";
import type { AnyProtocol } from "./types.ts";
import type { Core } from "./_core.ts";
import { quote as quoteName } from "./_limits.ts";
import { roomTopic, type ServerSession } from "./_session.ts";
import { type Relayed, Views } from "./_presence_rooms.ts";

/** The relay topic of presence changes, followed by the room. */
export const RELAYED_PRESENCE = "wskit/session/presence/";

/**
 * How much longer than a lease the other instances get after an outage before any is taken
 * for dead: the longest wait between two reconnects of a Redis link (its backoff's cap).
 */
const RECONNECT_GRACE = 5_000;

/** The default lease of an instance's members in a shared store, in milliseconds. */
export const DEFAULT_LEASE = 15_000;

type AnySession<T> = ServerSession<AnyProtocol, T>;

/** Presence for one `sessions()`. */
export class Presence<T> {
  /** This instance, as the owner of its sessions' members in the store. */
  readonly owner: string = randomId(9);
  readonly lease: number;
  #core: Core<T>;
  #accept: PresenceOptions<AnyProtocol, T>["accept"];
  #views: Views;
  /** Whether the members live in a shared store that keeps them (else in this process). */
  readonly #shared: boolean;
  #count = 0;
  /** This instance's sessions in each room. */
  #local = new Map<string, Set<AnySession<T>>>();
  /** Sessions whose members this instance holds (not those restored from a record). */
  #held = new WeakSet<AnySession<T>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating = false;
  /** The last heartbeat failed: once one succeeds, assert and read everything again. */
  #failing = false;
  /** No instance is declared dead before this time (after an outage, leases lapsed). */
  #graceUntil = 0;
  /** A strict read of every room is due at the end of the grace period. */
  #recheck = false;
  #closed = false;
  /** This instance has taken its lease in the store (and renews it). */
  #leased = false;

  constructor(core: Core<T>, options: true | PresenceOptions<AnyProtocol, T>) {
    this.#core = core;
    const o = options === true ? {} : options;
    this.lease = o.lease ?? DEFAULT_LEASE;
    if (!(this.lease >= 100)) {
      throw new RangeError(
        `Cannot configure presence.lease: expected a number >= 100, got ${this.lease}`,
      );
    }
    this.#accept = o.accept;
    const store = core.store;
    this.#shared = store.shared === true && typeof store.presenceSet === "function";
    this.#views = new Views({
      owner: this.owner,
      shared: this.#shared,
      read: async (room) => await store.presenceRead!(room),
      send: (room, frame) => core.endpoint?.publish(roomTopic(room), frame, { local: true }),
      mine: (room) => this.#mine(room),
    });
  }

  /** Memberships of this instance's sessions. */
  get count(): number {
    return this.#count;
  }

  /**
   * A client's join (or its update, for a room it is in): its data bounded, through the
   * `accept` hook, recorded, then told to every member.
   *
   * @throws {RemoteError} With code `"presence_too_large"`, `"room_full"`, or the hook's.
   */
  async admit(session: AnySession<T>, room: string, data: unknown): Promise<void> {
    const core = this.#core;
    const max = core.limits.maxPresenceBytes;
    const asked = JSON.stringify(data ?? null);
    if (asked.length * 3 > max && utf8Length(asked) > max) {
      throw new RemoteError(
        `Cannot show presence in ${quoteName(room)}: at most ${max} bytes of JSON`,
        { code: "presence_too_large" },
      );
    }
    const accept = this.#accept;
    const shown = accept ? await accept(session as never, room, JSON.parse(asked)) : data;
    const json = encode(shown);
    const had = session.presence.has(room);
    const full = core.limits.maxMembersPerRoom;
    let lapsed = false;
    if (this.#shared) {
      const set = await core.store.presenceSet!({
        room,
        pid: session.id,
        owner: this.owner,
        json,
        max: had ? 0 : full,
        lease: this.lease,
      });
      if (set === 0) throw roomFull(room, full);
      lapsed = set === 2;
    } else if (!had && this.#views.count(room) >= full) {
      throw roomFull(room, full);
    }
    if (session.ended) return;
    this.#own(session, room, json);
    // Written again with this member's new data in place.
    if (lapsed) this.#lapsed();
    await this.#show(session, room, json);
  }

  /** A join or an update the server makes: no hook, no bound. */
  enter(session: AnySession<T>, room: string, data: unknown): void {
    const json = encode(data);
    this.#own(session, room, json);
    this.#track(
      session,
      this.#write(session, room, json).then(() => this.#show(session, room, json)),
    );
  }

  /** Records that `session` is in `room` with `json`, in this instance's count. */
  #own(session: AnySession<T>, room: string, json: string): void {
    this.#held.add(session);
    if (!session.presence.has(room)) {
      this.#count++;
      this.#views.local(room, 1);
      let local = this.#local.get(room);
      if (!local) this.#local.set(room, local = new Set());
      local.add(session);
      this.#start();
    }
    session.presence.set(room, json);
  }

  async #write(session: AnySession<T>, room: string, json: string): Promise<void> {
    if (!this.#shared) return;
    const set = await this.#core.store.presenceSet!({
      room,
      pid: session.id,
      owner: this.owner,
      json,
      max: 0,
      lease: this.lease,
    });
    if (set === 2) this.#lapsed();
  }

  /** Tells every member, here and on the other instances. */
  async #show(session: AnySession<T>, room: string, json: string): Promise<void> {
    await this.#views.load(room);
    if (session.presence.get(room) !== json) return; // changed or left meanwhile
    this.#views.in(room, session.id, this.owner, json);
    this.#relay(room, ["i", session.id, this.owner, json]);
  }

  /** Sends `session` the members of `room` (once the view is read). */
  greet(session: AnySession<T>, room: string): void {
    this.#views.load(room).then(() => {
      const frame = session.rooms.has(room) ? this.#views.snapshot(room) : undefined;
      if (frame) session.link?.peer.send(frame);
    }, (error) => this.#core.report(session, error));
  }

  /** A session's connection attached: it hears of its rooms' members afresh. */
  attached(session: AnySession<T>): void {
    if (this.#held.has(session)) {
      for (const room of session.presence.keys()) this.greet(session, room);
      return;
    }
    // Resumed here from another instance's record: this instance holds its members now.
    const saved = [...session.presence];
    session.presence.clear();
    for (const [room, json] of saved) {
      if (!session.rooms.has(room)) continue;
      this.enter(session, room, JSON.parse(json));
      this.greet(session, room);
    }
  }

  /** A session left a room (it is unsubscribed already). */
  leave(session: AnySession<T>, room: string): void {
    if (!this.#drop(session, room)) return;
    const pid = session.id;
    this.#views.out(room, pid, this.owner);
    this.#views.release(room);
    if (!this.#shared) return;
    this.#track(
      session,
      Promise.resolve(this.#core.store.presenceRemove!(room, this.owner, [pid])),
    );
    this.#relay(room, ["o", pid, this.owner]);
  }

  /** A session ended: out of every room. */
  ended(session: AnySession<T>): void {
    for (const room of [...session.presence.keys()]) this.leave(session, room);
  }

  /** Another instance took the session over: its members are that instance's now. */
  taken(session: AnySession<T>): void {
    for (const room of [...session.presence.keys()]) {
      this.#drop(session, room);
      this.#views.release(room);
    }
  }

  #drop(session: AnySession<T>, room: string): boolean {
    if (!session.presence.delete(room)) return false;
    this.#count--;
    this.#views.local(room, -1);
    const local = this.#local.get(room);
    local?.delete(session);
    if (local?.size === 0) this.#local.delete(room);
    return true;
  }

  /** The members of `room`: from the view, or read from the store. */
  async members(room: string): Promise<PresenceMember[]> {
    const entries = await this.#views.members(room) ??
      (this.#shared ? (await this.#core.store.presenceRead!(room)).map(([p, , j]) => [p, j]) : []);
    return entries.map(([id, json]) => ({ id, data: JSON.parse(json) }));
  }

  /** A change relayed by another instance. */
  relayed(room: string, data: string): void {
    this.#views.relayed(room, data);
  }

  #relay(room: string, change: Relayed): void {
    if (this.#shared) this.#core.endpoint?.publish(RELAYED_PRESENCE + room, JSON.stringify(change));
  }

  /** Counts a write as part of what the session is handling, or reports its failure. */
  #track(session: AnySession<T>, done: Promise<unknown>): void {
    const core = this.#core;
    const ctx = core.current ?? session.handling;
    core.track(ctx, done);
    if (!ctx) done.catch((error) => core.report(session, error));
  }

  #start(): void {
    if (this.#timer !== undefined || !this.#shared || this.#closed) return;
    this.#timer = setInterval(() => this.#beat(), Math.round(this.lease / 3));
  }

  /** Renews this instance's lease, and lets go of the members of instances whose lapsed. */
  async #beat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    const rooms = this.#views.rooms();
    const owners = this.#views.others();
    try {
      const { renewed, alive } = await this.#core.store.presenceBeat!(
        this.owner,
        this.lease,
        rooms,
        owners,
      );
      // Back from an outage, or the store lost the lease (and maybe every other one with
      // it): assert everything again, and give the other instances a lease's time to.
      if (this.#failing || (!renewed && this.#leased)) {
        this.#failing = false;
        this.resync();
      }
      this.#leased = true;
      if (Date.now() < this.#graceUntil) return;
      owners.forEach((owner, i) => alive[i] || this.#reap(owner));
      if (this.#recheck) {
        // Every live instance has asserted its members again by now: read the rooms as they are.
        this.#recheck = false;
        this.#reload("strict");
      }
    } catch {
      // Redis is away: the relay and the store say so; this beat tries again next time.
      this.#failing = true;
      this.#graceUntil = Date.now() + this.lease + RECONNECT_GRACE;
    } finally {
      this.#beating = false;
      if (this.#count === 0 && this.#views.size === 0) this.#stop();
    }
  }

  /** An instance's lease lapsed: its members are gone, here and from the store. */
  #reap(owner: string): void {
    for (const [room, pids] of this.#views.reap(owner)) {
      Promise.resolve(this.#core.store.presenceRemove!(room, owner, pids)).catch(() => {});
    }
  }

  /** Writes every member of this instance again, and tells the others. */
  #reassert(): void {
    const store = this.#core.store;
    for (const room of this.#local.keys()) {
      const list = this.#mine(room);
      const writes = list.map(([pid, json]) =>
        store.presenceSet!({ room, pid, owner: this.owner, json, max: 0, lease: this.lease })
      );
      // Told as it stands once written: a change made meanwhile is not undone.
      Promise.all(writes).then(
        () => this.#relay(room, ["a", this.owner, this.#mine(room)]),
        (error) => this.#core.report(null, error),
      );
    }
  }

  /** This instance's members of `room`: public id and JSON. */
  #mine(room: string): [string, string][] {
    return [...this.#local.get(room) ?? []].map((s) => [s.id, s.presence.get(room)!]);
  }

  /**
   * A write found this instance's lease gone. The first write takes it; after that, the
   * store lost it (an outage, a restart): start over as after an outage.
   */
  #lapsed(): void {
    if (this.#leased) this.resync();
    this.#leased = true;
  }

  /** After an outage: this instance's members written again, every room read again. */
  resync(): void {
    if (!this.#shared) return;
    this.#graceUntil = Date.now() + this.lease + RECONNECT_GRACE;
    this.#recheck = true;
    this.#reassert();
    this.#reload("lenient");
  }

  #reload(mode: "lenient" | "strict"): void {
    for (const room of this.#views.rooms()) {
      this.#views.load(room, mode).catch((error) => this.#core.report(null, error));
    }
  }

  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #stop(): void {
    this.#leased = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** The JSON of presence data. */
function encode(data: unknown): string {
  try {
    return JSON.stringify(data ?? null);
  } catch (error) {
    throw new TypeError(`Cannot show presence: ${(error as Error).message}`);
  }
}

function roomFull(room: string, max: number): RemoteError {
  return new RemoteError(`Cannot join ${quoteName(room)}: it has ${max} members`, {
    code: "room_full",
  });
}
