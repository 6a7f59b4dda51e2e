/**
 * The machinery behind `sessions()`: the server-side session object, and the core that keeps
 * sessions, their logs in the store, their rooms, acknowledgements and expiry. Internal.
 *
 * @module
 */

import type { WebSocketEndpoint } from "./hooks.ts";
import type { Peer } from "./peer.ts";
import { type ErrorBody, frameText, type Position } from "./protocol.ts";
import type { EndReason, Session, SessionOptions, SessionPublishOptions } from "./session_api.ts";
import { RemoteError } from "./session_errors.ts";
import {
  DEFAULT_WINDOW,
  MemoryStore,
  randomId,
  type SessionRecord,
  type SessionStore,
} from "./session_store.ts";
import type { AnyProtocol, EventName, Protocol, RequestOptions } from "./session_types.ts";

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

/** Relay topics of the session layer itself (never subscribed to by peers). */
export const RELAYED_ROOM = "wskit/session/room/";
export const TAKEN = "wskit/session/taken";

const ACK_DELAY_MS = 10;
const ACK_EVERY = 64;
const DEFAULT_REQUEST_TIMEOUT = 10_000;

/** What a session connection carries until and after its hello. */
export interface Link<T> {
  peer: Peer<T>;
  session: ServerSession<AnyProtocol, T> | undefined;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames that arrived while the hello was being answered. */
  waiting: string[] | undefined;
}

export class ServerSession<P extends Protocol, T> implements Session<P, T> {
  readonly id: string;
  readonly sid: string;
  readonly identity: string;
  data: T;
  readonly rooms = new Set<string>();
  link: Link<T> | undefined;
  lastSeq = 0;
  acked = 0;
  ackTimer: ReturnType<typeof setTimeout> | undefined;
  expiresAt = Infinity;
  ended = false;
  nextRequest = 0;
  readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: unknown): void; timer: ReturnType<typeof setTimeout> }
  >();
  #core: Core<T>;

  constructor(core: Core<T>, identity: string, data: T, saved?: SessionRecord) {
    this.#core = core;
    this.identity = identity;
    this.data = data;
    // 128 random bits for the secret id; the public one only needs to be unique.
    this.sid = saved?.sid ?? randomId(16);
    this.id = saved?.pid ?? randomId(9);
    if (saved) {
      for (const room of saved.rooms) this.rooms.add(room);
      this.lastSeq = saved.lastSeq;
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
      lastSeq: this.lastSeq,
    };
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  get peer(): Peer<T> | undefined {
    return this.link?.peer;
  }

  emit<K extends EventName<P["serverEvents"]>>(event: K, payload: P["serverEvents"][K]): void {
    this.#core.toSession(this, `"t":"e","o":`, `,"e":${JSON.stringify(event)}`, payload);
  }

  request<K extends EventName<P["serverRequests"]>>(
    event: K,
    payload: P["serverRequests"][K]["payload"],
    options: RequestOptions = {},
  ): Promise<P["serverRequests"][K]["result"]> {
    const id = ++this.nextRequest;
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(signal.reason);
      const timeout = options.timeout ?? DEFAULT_REQUEST_TIMEOUT;
      const settle = () => {
        clearTimeout(entry.timer);
        this.pending.delete(id);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        settle();
        reject(signal!.reason);
      };
      const entry = {
        resolve: (v: unknown) => {
          settle();
          resolve(v as P["serverRequests"][K]["result"]);
        },
        reject: (e: unknown) => {
          settle();
          reject(e);
        },
        timer: setTimeout(() => {
          settle();
          reject(
            new DOMException(
              `Cannot get an answer to "${event}": no reply within ${timeout} ms`,
              "TimeoutError",
            ),
          );
        }, timeout),
      };
      this.pending.set(id, entry);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#core.toSession(
        this,
        `"t":"r","o":`,
        `,"i":${id},"e":${JSON.stringify(event)}`,
        payload,
      );
    });
  }

  join(room: string): void {
    if (this.ended || this.rooms.has(room)) return;
    this.rooms.add(room);
    this.link?.peer.subscribe(roomTopic(room));
    this.#core.persist(this as unknown as ServerSession<AnyProtocol, T>);
  }

  leave(room: string): void {
    if (!this.rooms.delete(room)) return;
    this.link?.peer.unsubscribe(roomTopic(room));
    this.#core.persist(this as unknown as ServerSession<AnyProtocol, T>);
  }

  publish<K extends EventName<P["serverEvents"]>>(
    room: string,
    event: K,
    payload: P["serverEvents"][K],
    options?: SessionPublishOptions,
  ): void {
    this.#core.toRoom(room, event, payload, options?.self ? undefined : this.id);
  }

  close(code = 1000, reason = "Session closed"): void {
    this.#core.end(this as unknown as ServerSession<AnyProtocol, T>, "closed", code, reason);
  }
}

/** The machinery behind {@linkcode sessions}, shared by its sessions. */
export class Core<T> {
  readonly bySid = new Map<string, ServerSession<AnyProtocol, T>>();
  readonly byId = new Map<string, ServerSession<AnyProtocol, T>>();
  readonly links = new WeakMap<Peer<T>, Link<T>>();
  endpoint: WebSocketEndpoint<T> | undefined;
  readonly store: SessionStore;
  readonly maxAge: number;
  readonly counts = { resumed: 0, recovered: 0, replayed: 0, duplicates: 0 };
  #options: SessionOptions<AnyProtocol, T>;
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: SessionOptions<AnyProtocol, T>) {
    this.#options = options;
    this.store = options.store ?? new MemoryStore(options.window);
    this.maxAge = options.window?.maxAge ?? DEFAULT_WINDOW.maxAge;
  }

  report(session: ServerSession<AnyProtocol, T> | null, error: unknown): void {
    const hook = this.#options.error;
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
  run(session: ServerSession<AnyProtocol, T> | null, fn: () => unknown): Promise<unknown> {
    try {
      const result = fn();
      if (result instanceof Promise) {
        return result.catch((error) => {
          this.report(session, error);
        });
      }
      return Promise.resolve(result);
    } catch (error) {
      this.report(session, error);
      return Promise.resolve();
    }
  }

  /** Logs a frame in the session's own stream and sends it if connected. */
  toSession(
    session: ServerSession<AnyProtocol, T>,
    head: string,
    tail: string,
    payload: unknown,
  ): void {
    if (session.ended) return;
    const rest = frameText(tail.slice(1), payload).slice(1);
    const prefix = `{${head}`;
    const suffix = `,${rest}`;
    const offset = this.store.append(ownStream(session.sid), prefix, suffix);
    const send = (o: number) => session.link?.peer.send(prefix + o + suffix);
    if (typeof offset === "number") send(offset);
    else offset.then(send, (e) => this.report(session, e));
  }

  /** Logs a frame in a room's stream and publishes it to the room's topic. */
  toRoom(room: string, event: string, payload: unknown, exclude: string | undefined): void {
    const endpoint = this.endpoint;
    if (!endpoint) {
      throw new Error("Cannot publish: the session hooks are not attached to a server");
    }
    const x = exclude === undefined ? "" : `,"x":${JSON.stringify(exclude)}`;
    const rest = frameText(`"e":${JSON.stringify(event)}${x}`, payload).slice(1);
    const prefix = `{"t":"e","s":${JSON.stringify(room)},"o":`;
    const suffix = `,${rest}`;
    if (this.store.shared) {
      // One log for every instance: the frame goes everywhere as it is.
      this.#appendAndPublish(room, prefix, suffix, false);
    } else {
      // Logs per instance: each instance numbers the message in its own log.
      this.#appendAndPublish(room, prefix, suffix, true);
      endpoint.publish(RELAYED_ROOM + room, suffix);
    }
  }

  /** Appends a room frame to this instance's log and delivers it (a relayed room message). */
  relayedRoom(room: string, suffix: string): void {
    this.#appendAndPublish(room, `{"t":"e","s":${JSON.stringify(room)},"o":`, suffix, true);
  }

  #appendAndPublish(room: string, prefix: string, suffix: string, local: boolean): void {
    const endpoint = this.endpoint!;
    const offset = this.store.append(roomStream(room), prefix, suffix);
    const topic = roomTopic(room);
    const send = (o: number) => endpoint.publish(topic, prefix + o + suffix, { local });
    if (typeof offset === "number") send(offset);
    else offset.then(send, (e) => this.report(null, e));
  }

  /** Saves a session where other instances can resume it (shared stores only). */
  persist(session: ServerSession<AnyProtocol, T>, ttl?: number): void {
    const save = this.store.saveSession;
    if (!save || session.ended) return;
    try {
      const done = save.call(this.store, session.record(), ttl);
      if (done instanceof Promise) done.catch((e) => this.report(session, e));
    } catch (e) {
      this.report(session, e);
    }
  }

  /** Another instance took a session over: forget it here, quietly (it has not ended). */
  takenOver(sid: string): void {
    const session = this.bySid.get(sid);
    if (!session) return;
    this.bySid.delete(sid);
    this.byId.delete(session.id);
    clearTimeout(session.ackTimer);
    const link = session.link;
    session.link = undefined;
    if (link) {
      link.session = undefined;
      if (link.peer.readyState < 2) link.peer.close(4000, "Session resumed elsewhere");
    }
  }

  /** Answers a client's request in the session's own stream (so a lost answer is replayed). */
  respond(session: ServerSession<AnyProtocol, T>, id: number, result: unknown, pos?: Position) {
    const p = pos ? `,"pos":${JSON.stringify(pos)}` : "";
    this.toSession(session, `"t":"res","o":`, `,"i":${id}${p}`, result);
  }

  fail(session: ServerSession<AnyProtocol, T>, id: number, body: ErrorBody): void {
    this.toSession(
      session,
      `"t":"res","o":`,
      `,"i":${id},"err":${JSON.stringify(body)}`,
      undefined,
    );
  }

  scheduleAck(session: ServerSession<AnyProtocol, T>): void {
    if (session.lastSeq - session.acked >= ACK_EVERY) return this.ack(session);
    session.ackTimer ??= setTimeout(() => this.ack(session), ACK_DELAY_MS);
  }

  ack(session: ServerSession<AnyProtocol, T>): void {
    clearTimeout(session.ackTimer);
    session.ackTimer = undefined;
    if (session.acked === session.lastSeq) return;
    session.acked = session.lastSeq;
    session.link?.peer.send(`{"t":"ack","q":${session.lastSeq}}`);
    this.persist(session);
  }

  /** Ends a session: out of its rooms, its log dropped, its connection closed. */
  end(
    session: ServerSession<AnyProtocol, T>,
    reason: EndReason,
    code = 1000,
    closeReason = "Session ended",
  ): Promise<unknown> {
    if (session.ended) return Promise.resolve();
    session.ended = true;
    this.bySid.delete(session.sid);
    this.byId.delete(session.id);
    clearTimeout(session.ackTimer);
    for (const p of [...session.pending.values()]) {
      p.reject(new RemoteError("Cannot get an answer: the session ended", { code: "ended" }));
    }
    const link = session.link;
    session.link = undefined;
    if (link) {
      link.session = undefined;
      if (link.peer.readyState < 2) link.peer.close(code, closeReason);
    }
    const dropped = this.store.drop(ownStream(session.sid));
    if (dropped instanceof Promise) dropped.catch((e) => this.report(null, e));
    const removed = this.store.removeSession?.(session.sid);
    if (removed instanceof Promise) removed.catch((e) => this.report(null, e));
    const hook = this.#options.end;
    return hook ? this.run(session, () => hook(session, reason)) : Promise.resolve();
  }

  /** Ends the sessions whose window has passed; runs while any session is disconnected. */
  sweep(): void {
    const now = Date.now();
    let waiting = 0;
    for (const session of this.bySid.values()) {
      if (session.link) continue;
      if (session.expiresAt <= now) this.end(session, "expired");
      else waiting++;
    }
    if (waiting === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  startSweeping(): void {
    this.#sweep ??= setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.maxAge / 4)));
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    await Promise.all([...this.bySid.values()].map((s) => this.end(s, "shutdown", 1001)));
    await this.store.close();
  }
}
