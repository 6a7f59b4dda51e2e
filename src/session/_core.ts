/**
 * The machinery behind `sessions()`: the live sessions, their writes to the store (each one
 * confirmed to the client only once recorded), their rooms, acknowledgements, bounds and
 * expiry. Internal.
 *
 * @module
 */

import type { WebSocketEndpoint } from "../server/types.ts";
import type { Peer } from "../server/types.ts";
import { encodePayload, type ErrorBody, quote } from "./wire.ts";
import type { EndReason, SessionLimits, SessionOptions } from "./api.ts";
import { RemoteError } from "./errors.ts";
import { MemoryStore } from "./memory_store.ts";
import { DEFAULT_WINDOW, randomId, type SessionStore } from "./store.ts";
import type { AnyProtocol } from "./types.ts";
import {
  type Handling,
  type Link,
  ownStream,
  type PresenceSeam,
  roomStream,
  roomTopic,
  type ServerSession,
  type SessionHost,
} from "./_session.ts";
import { Acks } from "./_acks.ts";
import { Admission, checkJoin, resolveSessionLimits } from "./_limits.ts";

/** Relay topics of the session layer itself (never subscribed to by peers). */
export const RELAYED_ROOM = "wskit/session/room/";
export const TAKEN = "wskit/session/taken";
export const EPOCH = "wskit/session/epoch";

type AnySession<T> = ServerSession<AnyProtocol, T>;

/** The machinery behind {@linkcode sessions}, shared by its sessions. */
export class Core<T> implements SessionHost<T> {
  readonly bySid = new Map<string, AnySession<T>>();
  readonly byId = new Map<string, AnySession<T>>();
  /** Disconnected sessions, oldest first: what expires, and what makes room at the cap. */
  readonly waiting = new Map<string, AnySession<T>>();
  readonly links = new WeakMap<Peer<T>, Link<T>>();
  endpoint: WebSocketEndpoint<T> | undefined;
  readonly store: SessionStore;
  readonly maxAge: number;
  readonly limits: Required<SessionLimits>;
  readonly counts = {
    resumed: 0,
    recovered: 0,
    replayed: 0,
    duplicates: 0,
    fills: 0,
    evicted: 0,
    refused: 0,
    storeFailures: 0,
  };
  /** The handling whose handler is running synchronously right now. */
  current: Handling | undefined;
  readonly options: SessionOptions<AnyProtocol, T>;
  #sweep: ReturnType<typeof setInterval> | undefined;
  /** The epoch of the store's history last seen (a shared store may lose it and start over). */
  #epoch: string | undefined;
  #admission: Admission;
  /** Store writes under way. */
  #writing = new Set<Promise<unknown>>();
  /** Confirmations to clients. */
  readonly acks: Acks<T>;
  /** Presence, when on (set by `sessions()`). */
  presence: PresenceSeam<T> | undefined;

  constructor(options: SessionOptions<AnyProtocol, T>) {
    this.options = options;
    this.store = options.store ?? new MemoryStore(options.window);
    this.maxAge = options.window?.maxAge ?? DEFAULT_WINDOW.maxAge;
    this.limits = resolveSessionLimits(options.limits);
    this.#admission = new Admission(this.limits);
    this.acks = new Acks(this);
  }

  report(session: AnySession<T> | null, error: unknown): void {
    const hook = this.options.error;
    if (!hook) {
      console.error("wskit session:", error);
      return;
    }
    try {
      hook(session, error);
    } catch (e) {
      console.error("wskit session: the error hook failed:", e, "handling:", error);
    }
  }

  /** Runs an application hook; a failure is reported, the session stays. */
  run(session: AnySession<T> | null, fn: () => unknown): Promise<unknown> {
    try {
      const result = fn();
      if (result instanceof Promise) return result.catch((error) => this.report(session, error));
      return Promise.resolve(result);
    } catch (error) {
      this.report(session, error);
      return Promise.resolve();
    }
  }

  /** The idempotency key of the next write of `ctx` (a fresh one outside any handling). */
  #key(ctx: Handling | undefined): string | undefined {
    if (!this.store.shared) return undefined;
    return ctx ? `${ctx.sid}.${ctx.q}.${ctx.writes++}` : randomId(12);
  }

  /**
   * Counts a write that did not complete at once as part of `ctx`, and until it settles as
   * one that `close()` waits for before it closes the store.
   */
  track(ctx: Handling | undefined, done: Promise<unknown>): void {
    if (ctx) (ctx.pending ??= []).push(done);
    this.#writing.add(done);
    const settled = () => this.#writing.delete(done);
    done.then(settled, settled);
  }

  /**
   * Logs a frame in the session's own stream and sends it if connected: the frame is
   * `prefix`, its offset, and `suffix` (`["e",` 7 `,"name",{...}]`).
   */
  toSession(session: AnySession<T>, prefix: string, suffix: string): void {
    if (session.ended) return;
    const ctx = this.current ?? session.handling;
    const offset = this.store.append(session.stream, prefix, suffix, this.#key(ctx));
    if (typeof offset === "number") return this.#sendOwn(session, prefix + offset + suffix);
    this.track(ctx, offset);
    offset.then(
      (o) => this.#sendOwn(session, prefix + o + suffix),
      (e) => ctx || this.report(session, e),
    );
  }

  #sendOwn(session: AnySession<T>, text: string): void {
    this.noteEpoch(this.store.epoch);
    session.link?.peer.send(text);
  }

  /** Logs a frame in a room's stream and publishes it to the room's topic. */
  toRoom(
    room: string,
    event: string,
    payload: unknown,
    exclude: string | undefined,
    ctx: Handling | undefined = this.current,
  ): void {
    const endpoint = this.endpoint;
    if (!endpoint) {
      throw new Error("Cannot publish: the session hooks are not attached to a server");
    }
    const [letter, json] = encodePayload("m", payload);
    const x = exclude === undefined ? "" : `,${quote(exclude)}`;
    // What follows the room name: the same on every instance.
    const rest = `,${quote(event)},${json}${x}]`;
    const prefix = `["${letter}",`;
    const suffix = `,${quote(room)}${rest}`;
    if (this.store.shared) {
      // One log for every instance: the frame goes everywhere as it is.
      this.#appendAndPublish(room, prefix, suffix, false, ctx);
    } else {
      // Logs per instance: each instance numbers the message in its own log.
      this.#appendAndPublish(room, prefix, suffix, true, ctx);
      endpoint.publish(RELAYED_ROOM + room, letter + rest);
    }
  }

  /** Appends a room frame relayed by another instance (`M,"name",{...}]`) and delivers it. */
  relayedRoom(room: string, data: string): void {
    const letter = data[0];
    if (letter !== "m" && letter !== "M") return;
    this.#appendAndPublish(
      room,
      `["${letter}",`,
      `,${quote(room)}${data.slice(1)}`,
      true,
      undefined,
    );
  }

  #appendAndPublish(
    room: string,
    prefix: string,
    suffix: string,
    local: boolean,
    ctx: Handling | undefined,
  ): void {
    const endpoint = this.endpoint!;
    const offset = this.store.append(roomStream(room), prefix, suffix, this.#key(ctx));
    const topic = roomTopic(room);
    const send = (o: number) => {
      this.noteEpoch(this.store.epoch);
      endpoint.publish(topic, prefix + o + suffix, { local });
    };
    if (typeof offset === "number") return send(offset);
    this.track(ctx, offset);
    offset.then(send, (e) => ctx || this.report(null, e));
  }

  /**
   * Notes the epoch of the store's history. A change means the store lost it (a Redis that
   * restarted empty) and every stream counts from 1 again: before anything of the new epoch
   * goes out, every connected client (here, and through the relay on the other instances)
   * hears it, starts its streams over and resynchronizes, instead of taking the new
   * offsets for ones it has seen.
   */
  noteEpoch(epoch: string | undefined, relayed = false): void {
    if (epoch === undefined || epoch === this.#epoch) return;
    const first = this.#epoch === undefined;
    this.#epoch = epoch;
    if (first && !relayed) return;
    const frame = `["n",${JSON.stringify(epoch)}]`;
    for (const session of this.bySid.values()) session.link?.peer.send(frame);
    if (!relayed) this.endpoint?.publish(EPOCH, epoch);
  }

  /**
   * Tells the local members of every room where it stands, so that a client that missed a
   * publish (the relay was down, or it came between a read and a subscription) asks for it.
   */
  async hintRooms(rooms: Iterable<string>): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    await Promise.all([...rooms].map(async (room) => {
      const [, last] = await this.store.position(roomStream(room));
      if (last > 0) {
        endpoint.publish(roomTopic(room), `["p",${quote(room)},${last}]`, { local: true });
      }
    }));
  }

  /** The rooms that have a connected session on this instance. */
  localRooms(): Set<string> {
    const rooms = new Set<string>();
    for (const session of this.bySid.values()) {
      if (session.link) { for (const room of session.rooms) rooms.add(room); }
    }
    return rooms;
  }

  /** Saves a session where other instances can resume it (shared stores only). */
  persist(session: AnySession<T>, ctx?: Handling, ttl?: number): void {
    const save = this.store.saveSession;
    if (!save || session.ended) return;
    let done;
    try {
      done = save.call(this.store, session.record(), ttl);
    } catch (e) {
      done = Promise.reject(e);
    }
    if (!(done instanceof Promise)) return;
    this.track(ctx, done);
    if (!ctx) done.catch((e) => this.report(session, e));
  }

  /** Refuses a room a session cannot join: too long a name, or too many rooms. */
  checkJoin(session: AnySession<T>, room: string): void {
    checkJoin(this.limits, session, room);
  }

  /**
   * Makes room for a new session, within the bounds on live sessions and creation rate.
   *
   * @returns Why not, or `undefined` when it may be created.
   */
  admit(): string | undefined {
    const refused = this.#admission.admit(this.bySid.size, this.waiting.values().next().value);
    if (refused === "evict") {
      this.counts.evicted++;
      this.end(this.waiting.values().next().value!, "evicted");
      return undefined;
    }
    if (refused) this.counts.refused++;
    return refused;
  }

  /** Another instance took a session over: forget it here, quietly (it has not ended). */
  takenOver(sid: string): void {
    const session = this.bySid.get(sid);
    if (!session) return;
    this.#forget(session);
    this.presence?.taken(session);
    const link = session.link;
    session.link = undefined;
    if (link) {
      link.session = undefined;
      if (link.peer.readyState < 2) link.peer.close(4000, "Session resumed elsewhere");
    }
  }

  #forget(session: AnySession<T>): void {
    this.bySid.delete(session.sid);
    this.byId.delete(session.id);
    this.waiting.delete(session.sid);
    this.acks.cancel(session);
    session.generation++;
  }

  /** Answers a client's request in the session's own stream (so a lost answer is replayed). */
  respond(session: AnySession<T>, id: number, result: unknown, pos?: unknown): void {
    const [letter, json] = encodePayload("a", result);
    const p = pos ? `,${JSON.stringify(pos)}` : "";
    this.toSession(session, `["${letter}",`, `,${id},${json}${p}]`);
  }

  /** Fails a client's request in the session's own stream. */
  fail(session: AnySession<T>, id: number, body: ErrorBody): void {
    this.toSession(session, `["x",`, `,${id},${JSON.stringify(body)}]`);
  }

  /** Ends a session: out of its rooms, its log dropped, its connection closed. */
  end(
    session: AnySession<T>,
    reason: EndReason,
    code = 1000,
    closeReason = "Session ended",
  ): Promise<unknown> {
    if (session.ended) return Promise.resolve();
    session.ended = true;
    this.#forget(session);
    this.presence?.ended(session);
    for (const p of [...session.pending?.values() ?? []]) {
      p.reject(new RemoteError("Cannot get an answer: the session ended", { code: "ended" }));
    }
    const link = session.link;
    session.link = undefined;
    if (link) {
      link.session = undefined;
      if (link.peer.readyState < 2) link.peer.close(code, closeReason);
    }
    // Forgotten by the store too (awaited by close() before the store closes).
    const cleaned = this.run(
      null,
      () =>
        Promise.all([
          this.store.drop(ownStream(session.sid)),
          this.store.removeSession?.(session.sid),
        ]),
    );
    const hook = this.options.end;
    const ended = hook ? this.run(session, () => hook(session, reason)) : undefined;
    return ended ? Promise.all([cleaned, ended]) : cleaned;
  }

  /** A session's connection closed: it waits for its client within the window. */
  detach(session: AnySession<T>): void {
    session.link = undefined;
    this.acks.cancel(session);
    session.expiresAt = Date.now() + this.maxAge;
    this.waiting.delete(session.sid);
    this.waiting.set(session.sid, session);
    this.persist(session, undefined, this.maxAge);
    this.#sweep ??= setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.maxAge / 4)));
  }

  /** A connection attached to a session. */
  attach(session: AnySession<T>, link: Link<T>): void {
    this.waiting.delete(session.sid);
    session.expiresAt = Infinity;
    link.session = session;
    session.link = link;
  }

  /** Ends the sessions whose window has passed; runs while any session is disconnected. */
  sweep(): void {
    const now = Date.now();
    for (const session of this.waiting.values()) {
      if (session.expiresAt > now) break; // oldest first: the rest expire later
      this.end(session, "expired");
    }
    if (this.waiting.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    this.presence?.close();
    await Promise.all([...this.bySid.values()].map((s) => this.end(s, "shutdown", 1001)));
    // What the end hooks (and the close hooks before them) wrote still goes to the store.
    await Promise.allSettled([...this.#writing]);
    await this.store.close();
  }
}
