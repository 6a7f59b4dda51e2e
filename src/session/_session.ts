/**
 * The server-side session object, and what it keeps of the client frames it is handling.
 * Internal: the machinery that drives it is `_session_core.ts`.
 *
 * @module
 */

import { type ClientFrame, encodePayload, quote } from "./wire.ts";
import type { Session, SessionPublishOptions } from "./api.ts";
import type { SessionRecord } from "./store.ts";
import type { AnyProtocol, EventName, Protocol, RequestOptions } from "./types.ts";
import type { Peer } from "../server/types.ts";
import { randomId } from "./store.ts";
import { awaitAnswer, type Waiter } from "./_requests.ts";

const DEFAULT_REQUEST_TIMEOUT = 10_000;

/** The topic behind a room. */
export function roomTopic(room: string): string {
  return `wskit/room/${room}`;
}
/** The store stream of a room. */
export function roomStream(room: string): string {
  return `r:${room}`;
}
/** The store stream of a session's own messages. */
export function ownStream(sid: string): string {
  return `s:${sid}`;
}

/** The sizes of unconfirmed frames: a queue that takes from its head without copying. */
export class Sizes {
  #items: number[] = [];
  #head = 0;
  /** Their sum. */
  bytes = 0;

  get count(): number {
    return this.#items.length - this.#head;
  }

  push(size: number): void {
    this.#items.push(size);
    this.bytes += size;
  }

  /** Drops the oldest `n`. */
  shift(n: number): void {
    const items = this.#items;
    const end = Math.min(this.#head + n, items.length);
    for (let i = this.#head; i < end; i++) this.bytes -= items[i]!;
    this.#head = end;
    // Drained or not, the array is kept until its dead prefix is long: no new one per frame.
    if (end >= 1024 && end * 2 >= items.length) {
      this.#items = items.slice(end);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.bytes = 0;
  }
}

/** What a session connection carries until and after its hello. */
export interface Link<T> {
  peer: Peer<T>;
  session: ServerSession<AnyProtocol, T> | undefined;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames that arrived while the hello was being answered. */
  waiting: string[] | undefined;
  /** A gap fill is being read from the store (one at a time per connection). */
  filling: boolean;
  /** The number of the next sequenced frame on this connection (the welcome's `q` + 1). */
  nextQ: number;
}

/**
 * The handling of one client frame: its number, and the store writes it made. The frame is
 * confirmed to the client only once every one of those writes has succeeded; each write's
 * idempotency key is `sid.q.n`, so that handling the frame again after a failure records
 * nothing twice.
 */
export interface Handling {
  readonly sid: string;
  readonly q: number;
  /** Writes made so far (numbers the next key). */
  writes: number;
  /** Writes that did not complete at once. */
  pending: Promise<unknown>[] | undefined;
  /** The session's generation when the handling started (a store failure starts a new one). */
  readonly generation: number;
}

/** What a session needs from the machinery that keeps it. */
export interface SessionHost<T> {
  /** Writes a frame to the session's own stream and sends it when connected. */
  toSession(session: ServerSession<AnyProtocol, T>, prefix: string, suffix: string): void;
  /** Writes a frame to a room's stream and publishes it. */
  toRoom(
    room: string,
    event: string,
    payload: unknown,
    exclude: string | undefined,
    ctx?: Handling,
  ): void;
  /** Saves the session where other instances can resume it, as part of `ctx` if given. */
  persist(session: ServerSession<AnyProtocol, T>, ctx?: Handling): void;
  /** Ends the session. */
  end(session: ServerSession<AnyProtocol, T>, reason: "closed", code: number, why: string): void;
  /** Checks a room name and the session's room count. */
  checkJoin(session: ServerSession<AnyProtocol, T>, room: string): void;
  /** The handling that is running synchronously right now, if any. */
  readonly current: Handling | undefined;
  /** Presence, when on. */
  readonly presence: PresenceSeam<T> | undefined;
}

/** What a session needs of presence (`_presence.ts`). */
export interface PresenceSeam<T> {
  /** A client's join or update: bounded, through the hook, recorded, then shown. */
  admit(session: ServerSession<AnyProtocol, T>, room: string, data: unknown): Promise<void>;
  /** A join or update the server makes. */
  enter(session: ServerSession<AnyProtocol, T>, room: string, data: unknown): void;
  /** The session left a room. */
  leave(session: ServerSession<AnyProtocol, T>, room: string): void;
  /** Sends the session the members of a room. */
  greet(session: ServerSession<AnyProtocol, T>, room: string): void;
  /** A connection attached to the session (maybe resumed from another instance's record). */
  attached(session: ServerSession<AnyProtocol, T>): void;
  /** The session ended: out of every room. */
  ended(session: ServerSession<AnyProtocol, T>): void;
  /** Another instance took the session over. */
  taken(session: ServerSession<AnyProtocol, T>): void;
  /** Stops the heartbeat. */
  close(): void;
}

/** One client's session on the server; it outlives the client's connections. */
export class ServerSession<P extends Protocol, T> implements Session<P, T> {
  readonly id: string;
  readonly sid: string;
  /** The store stream of its own messages, made once (a key made per write is hashed anew). */
  readonly stream: string;
  readonly identity: string;
  data: T;
  readonly rooms = new Set<string>();
  /** Presence data (JSON) by room, with presence on. */
  readonly presence = new Map<string, string>();
  link: Link<T> | undefined;
  /** The last client frame accepted in order. */
  lastSeq = 0;
  /** The last client frame handled with all its writes recorded: what may be confirmed. */
  durable = 0;
  /** The last number confirmed to the client. */
  acked = 0;
  /** Handled frames above `durable` (answers complete out of turn). */
  done: Set<number> | undefined;
  /** Sizes of the frames above `durable`, in order, for the unconfirmed bound. */
  readonly sizes = new Sizes();
  /** Frames waiting for the one being handled (a session's frames run one at a time). */
  queue: Extract<ClientFrame, { q: number }>[] = [];
  /** The frame being handled, if any. */
  handling: Handling | undefined;
  /** Bumped when a store failure throws away what was being handled. */
  generation = 0;
  /** A save of the record is running, and whether another must follow it. */
  saving = false;
  saveAgain = false;
  expiresAt = Infinity;
  ended = false;
  nextRequest = 0;
  /** Server requests waiting for the client's answer, by id. */
  pending: Map<number, Waiter> | undefined;
  #host: SessionHost<T>;

  constructor(host: SessionHost<T>, identity: string, data: T, saved?: SessionRecord) {
    this.#host = host;
    this.identity = identity;
    this.data = data;
    // 128 random bits for the secret id; the public one only needs to be unique.
    this.sid = saved?.sid ?? randomId(16);
    this.id = saved?.pid ?? randomId(9);
    this.stream = ownStream(this.sid);
    if (saved) {
      for (const room of saved.rooms) this.rooms.add(room);
      if (Array.isArray(saved.presence)) {
        for (const [room, json] of saved.presence) this.presence.set(room, json);
      }
      this.lastSeq = this.durable = this.acked = saved.lastSeq;
    }
  }

  /** What a shared store keeps of this session. */
  record(): SessionRecord {
    return {
      sid: this.sid,
      pid: this.id,
      identity: this.identity,
      data: this.data,
      rooms: [...this.rooms],
      lastSeq: this.durable,
      ...(this.presence.size > 0 ? { presence: [...this.presence] } : {}),
    };
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  get peer(): Peer<T> | undefined {
    return this.link?.peer;
  }

  #self(): ServerSession<AnyProtocol, T> {
    return this as unknown as ServerSession<AnyProtocol, T>;
  }

  emit<K extends EventName<P["serverEvents"]>>(event: K, payload: P["serverEvents"][K]): void {
    const [letter, json] = encodePayload("e", payload);
    this.#host.toSession(this.#self(), `["${letter}",`, `,${quote(event)},${json}]`);
  }

  request<K extends EventName<P["serverRequests"]>>(
    event: K,
    payload: P["serverRequests"][K]["payload"],
    options: RequestOptions = {},
  ): Promise<P["serverRequests"][K]["result"]> {
    const id = ++this.nextRequest;
    return awaitAnswer(event, options, DEFAULT_REQUEST_TIMEOUT, (waiter) => {
      const [letter, json] = encodePayload("r", payload);
      this.#host.toSession(this.#self(), `["${letter}",`, `,${id},${quote(event)},${json}]`);
      (this.pending ??= new Map()).set(id, waiter);
    }, () => this.pending?.delete(id));
  }

  join(room: string, presence?: unknown): void {
    if (this.ended || this.rooms.has(room)) return;
    this.#host.checkJoin(this.#self(), room);
    this.rooms.add(room);
    this.link?.peer.subscribe(roomTopic(room));
    const seam = this.#host.presence;
    if (seam && !this.presence.has(room)) {
      seam.enter(this.#self(), room, presence);
      seam.greet(this.#self(), room);
    }
    this.#host.persist(this.#self(), this.#host.current ?? this.handling);
  }

  leave(room: string): void {
    if (!this.rooms.delete(room)) return;
    this.link?.peer.unsubscribe(roomTopic(room));
    this.#host.presence?.leave(this.#self(), room);
    this.#host.persist(this.#self(), this.#host.current ?? this.handling);
  }

  setPresence(room: string, data: unknown): void {
    if (!this.rooms.has(room) || this.ended) return;
    this.#host.presence?.enter(this.#self(), room, data);
    this.#host.persist(this.#self(), this.#host.current ?? this.handling);
  }

  publish<K extends EventName<P["serverEvents"]>>(
    room: string,
    event: K,
    payload: P["serverEvents"][K],
    options?: SessionPublishOptions,
  ): void {
    this.#host.toRoom(
      room,
      event,
      payload,
      options?.self ? undefined : this.id,
      this.#host.current ?? this.handling,
    );
  }

  close(code = 1000, reason = "Session closed"): void {
    this.#host.end(this.#self(), "closed", code, reason);
  }
}
