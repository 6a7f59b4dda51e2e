/**
 * The session layer, server side: typed events and requests, rooms that clients join, and
 * reconnects that lose nothing within a window. `sessions()` turns a protocol's handlers
 * into ordinary wskit hooks, so it runs on `serve()` and both mountable handlers.
 *
 * A session outlives its connections. Every message to it carries an offset in its stream
 * (its own, or a room's); a reconnecting client names its last offsets and the server
 * replays the gap from a bounded log, or answers `recovered: false`. Every message from the
 * client carries a sequence number and is processed once: resent duplicates are dropped.
 *
 * @example A typed chat
 * ```ts ignore
 * import { serve } from "jsr:@wskit/wskit";
 * import { type Protocol, sessions } from "jsr:@wskit/wskit/session";
 *
 * interface Chat extends Protocol {
 *   clientEvents: { say: { text: string } };
 *   serverEvents: { said: { from: string; text: string } };
 *   clientRequests: { whoami: { payload: null; result: string } };
 *   serverRequests: Record<never, never>;
 * }
 *
 * const app = sessions<Chat, { user: string }>({
 *   upgrade: (request) => ({ data: { user: new URL(request.url).searchParams.get("user") ?? "?" } }),
 *   identify: (data) => data.user,
 *   join: (_session, room) => room === "lobby",
 *   events: {
 *     say(session, { text }) {
 *       app.publish("lobby", "said", { from: session.data.user, text });
 *     },
 *   },
 *   requests: { whoami: (session) => session.data.user },
 * });
 * await serve(app.hooks, { port: 8000 });
 * ```
 *
 * @module
 */

import type { Awaitable, CloseDetails, Hooks, WebSocketEndpoint } from "./hooks.ts";
import type { Peer } from "./peer.ts";
import {
  type ClientFrame,
  type ErrorBody,
  frameText,
  parseFrame,
  type Position,
  SUBPROTOCOL,
  VERSION,
} from "./protocol.ts";
import { RemoteError } from "./session_errors.ts";
import {
  DEFAULT_WINDOW,
  type LogWindow,
  MemoryStore,
  randomId,
  type SessionRecord,
  type SessionStore,
} from "./session_store.ts";
import type { AnyProtocol, EventName, Protocol, RequestOptions } from "./session_types.ts";

export { RemoteError } from "./session_errors.ts";
export { MemoryStore } from "./session_store.ts";
export type { ErrorBody, Position } from "./protocol.ts";
export type {
  Awaitable,
  CloseDetails,
  Hooks,
  LimitStats,
  Message,
  SendData,
  SendStatus,
  ServerStats,
  UpgradeAccept,
  UpgradeInfo,
  UpgradeResult,
  WebSocketEndpoint,
} from "./hooks.ts";
export type { Peer, PublishOptions } from "./peer.ts";
export type { LogWindow, Maybe, SessionRecord, SessionStore } from "./session_store.ts";
export type {
  AnyProtocol,
  EventName,
  Protocol,
  RequestOptions,
  RequestShape,
} from "./session_types.ts";

export type { Relay, RelayDeliver, RelayStats } from "./relay.ts";

/** Options of {@linkcode Session.publish}. */
export interface SessionPublishOptions {
  /**
   * Deliver to the publishing session too.
   *
   * @default {false}
   */
  self?: boolean;
}

/** Why a session ended. */
export type EndReason = "closed" | "expired" | "shutdown";

/**
 * A client's session on the server: it outlives the client's connections within the window.
 *
 * @typeParam P The protocol.
 * @typeParam T The per-session data type (from the upgrade hook).
 */
export interface Session<P extends Protocol = AnyProtocol, T = unknown> {
  /** A public id, safe to show to others (the secret session id never leaves the wire). */
  readonly id: string;
  /** The identity the session is bound to (see `identify`). */
  readonly identity: string;
  /** Per-session data, from the upgrade hook of the connection that created the session. */
  data: T;
  /** The rooms the session is in. */
  readonly rooms: ReadonlySet<string>;
  /** Whether a connection is attached right now. */
  readonly connected: boolean;
  /** The current connection, if any. */
  readonly peer: Peer<T> | undefined;
  /** Sends an event to this session's client; replayed after a reconnect within the window. */
  emit<K extends EventName<P["serverEvents"]>>(event: K, payload: P["serverEvents"][K]): void;
  /**
   * Asks this session's client, and resolves with what its handler returns.
   *
   * @throws {RemoteError} When the client's handler fails or has no handler.
   * @throws {DOMException} `TimeoutError` after `timeout`, or the signal's reason.
   */
  request<K extends EventName<P["serverRequests"]>>(
    event: K,
    payload: P["serverRequests"][K]["payload"],
    options?: RequestOptions,
  ): Promise<P["serverRequests"][K]["result"]>;
  /** Adds the session to a room (no authorization: the server decides). */
  join(room: string): void;
  /** Takes the session out of a room. */
  leave(room: string): void;
  /** Sends an event to every session in `room`, this one excluded unless `self: true`. */
  publish<K extends EventName<P["serverEvents"]>>(
    room: string,
    event: K,
    payload: P["serverEvents"][K],
    options?: SessionPublishOptions,
  ): void;
  /** Ends the session for good and closes its connection. */
  close(code?: number, reason?: string): void;
}

/** Handlers of the client's events, by name. */
export type EventHandlers<P extends Protocol, T> = {
  [K in EventName<P["clientEvents"]>]?: (
    session: Session<P, T>,
    payload: P["clientEvents"][K],
  ) => Awaitable<void>;
};

/** Handlers of the client's requests, by name: the return value is the result. */
export type RequestHandlers<P extends Protocol, T> = {
  [K in EventName<P["clientRequests"]>]?: (
    session: Session<P, T>,
    payload: P["clientRequests"][K]["payload"],
  ) => Awaitable<P["clientRequests"][K]["result"]>;
};

/**
 * Options of {@linkcode sessions}.
 *
 * @typeParam P The protocol.
 * @typeParam T The per-session data type.
 */
export interface SessionOptions<P extends Protocol, T> {
  /** Authentication: the upgrade hook of the endpoint (its `data` seeds `session.data`). */
  upgrade?: Hooks<T>["upgrade"];
  /**
   * The identity a session is bound to, from the upgrade hook's data: a session id presented
   * by a connection of another identity resumes nothing.
   *
   * @default {() => ""}
   */
  identify?: (data: T) => string;
  /** Handlers of client events. */
  events?: EventHandlers<P, T>;
  /** Handlers of client requests; a thrown {@linkcode RemoteError} reaches the caller. */
  requests?: RequestHandlers<P, T>;
  /** Authorizes a client's request to join a room. Default: every room. */
  join?(session: Session<P, T>, room: string): boolean | Promise<boolean>;
  /** A connection attached to a session: a new one, or one resumed (and maybe recovered). */
  connect?(
    session: Session<P, T>,
    info: { resumed: boolean; recovered: boolean },
  ): Awaitable<void>;
  /** A session's connection closed; the session waits for a reconnect within the window. */
  disconnect?(session: Session<P, T>, details: CloseDetails): Awaitable<void>;
  /** A session ended: its client said goodbye, its window passed, or the server stopped. */
  end?(session: Session<P, T>, reason: EndReason): Awaitable<void>;
  /** A handler failed (the session stays); `session` is null outside any session. */
  error?(session: Session<P, T> | null, error: unknown): void;
  /** Hooks for connections that do not speak the session protocol; refused without them. */
  plain?: Hooks<T>;
  /** Where the replay logs live. Default: a {@linkcode MemoryStore} with `window`. */
  store?: SessionStore;
  /** How much history to keep, and how long a disconnected session lives. */
  window?: LogWindow;
  /**
   * Milliseconds a session connection has to say hello.
   *
   * @default {10000}
   */
  helloTimeout?: number;
}

/**
 * The session layer, ready to serve.
 *
 * @typeParam P The protocol.
 * @typeParam T The per-session data type.
 */
export interface SessionServer<P extends Protocol, T> {
  /** The hooks to pass to `serve()` or a `createHandler()`. */
  readonly hooks: Hooks<T>;
  /** The live sessions, by public id. */
  readonly sessions: ReadonlyMap<string, Session<P, T>>;
  /** Sends an event to every session in `room`. */
  publish<K extends EventName<P["serverEvents"]>>(
    room: string,
    event: K,
    payload: P["serverEvents"][K],
  ): void;
  /** Counters of what the layer has done. */
  stats(): SessionStats;
  /** Ends every session (reason `"shutdown"`) and releases the store. */
  close(): Promise<void>;
}

/** What {@linkcode SessionServer.stats} reports. */
export interface SessionStats {
  /** Live sessions. */
  sessions: number;
  /** Of those, with a connection attached. */
  connected: number;
  /** Reconnects that found their session. */
  resumed: number;
  /** Of those, with everything missed replayed. */
  recovered: number;
  /** Frames replayed to reconnecting clients. */
  replayed: number;
  /** Client frames received twice (resent after a reconnect) and dropped. */
  duplicates: number;
}

/** The topic behind a room. */
function roomTopic(room: string): string {
  return `wskit/room/${room}`;
}
/** The store stream of a room, and of a session's own messages. */
function roomStream(room: string): string {
  return `r:${room}`;
}
function ownStream(sid: string): string {
  return `s:${sid}`;
}

/** Relay topics of the session layer itself (never subscribed to by peers). */
const RELAYED_ROOM = "wskit/session/room/";
const TAKEN = "wskit/session/taken";

const ACK_DELAY_MS = 10;
const ACK_EVERY = 64;
const DEFAULT_REQUEST_TIMEOUT = 10_000;

/** What a session connection carries until and after its hello. */
interface Link<T> {
  peer: Peer<T>;
  session: ServerSession<AnyProtocol, T> | undefined;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames that arrived while the hello was being answered. */
  waiting: string[] | undefined;
}

class ServerSession<P extends Protocol, T> implements Session<P, T> {
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
class Core<T> {
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

/**
 * Creates the session layer for a protocol: pass its `hooks` to `serve()` or a
 * `createHandler()`. Clients connect with `SessionClient` from `@wskit/wskit/session-client`;
 * plain WebSocket clients get the `plain` hooks, or are refused with 1002 without them.
 *
 * @typeParam P The protocol, shared with the client code.
 * @typeParam T The per-session data type, from the upgrade hook.
 * @param options Handlers, authorization, window and store.
 * @returns The hooks, the live sessions, `publish` to a room and `close`.
 */
export function sessions<P extends Protocol = AnyProtocol, T = unknown>(
  options: SessionOptions<P, T> = {},
): SessionServer<P, T> {
  const opts = options as unknown as SessionOptions<AnyProtocol, T>;
  const core = new Core<T>(opts);
  const plain = opts.plain;
  const identify = opts.identify ?? (() => "");
  const helloTimeout = opts.helloTimeout ?? 10_000;

  function protocolError(peer: Peer<T>, why: string): void {
    if (peer.readyState < 2) peer.close(1002, why.slice(0, 120));
  }

  async function hello(link: Link<T>, frame: Extract<ClientFrame, { t: "hello" }>): Promise<void> {
    const peer = link.peer;
    if (frame.v !== VERSION) {
      return protocolError(
        peer,
        `Cannot speak protocol version ${frame.v}: this server speaks ${VERSION}`,
      );
    }
    const identity = identify(peer.data);
    const sid = typeof frame.sid === "string" ? frame.sid : undefined;
    let claimed = sid === undefined ? undefined : core.bySid.get(sid);
    if (!claimed && sid !== undefined && core.store.loadSession) {
      // Created on another instance: resume it here from the shared store.
      const record = await core.store.loadSession(sid);
      if (record && record.identity === identity && !core.bySid.has(sid)) {
        claimed = new ServerSession<AnyProtocol, T>(core, identity, record.data as T, record);
        claimed.expiresAt = Date.now() + core.maxAge; // until this connection attaches
        core.bySid.set(claimed.sid, claimed);
        core.byId.set(claimed.id, claimed);
        core.startSweeping();
        core.endpoint?.publish(TAKEN, claimed.sid);
      }
    }
    // A session id of another identity resumes nothing: it is treated as unknown.
    const resumed = claimed !== undefined && !claimed.ended && claimed.identity === identity;
    const session = resumed
      ? claimed!
      : new ServerSession<AnyProtocol, T>(core, identity, peer.data);
    const previous = session.link;
    if (previous) {
      // The client came back before its old connection was noticed dead.
      previous.session = undefined;
      if (previous.peer.readyState < 2) previous.peer.close(4000, "Session resumed elsewhere");
    }
    const streams: Record<string, Position> = {};
    const own = ownStream(session.sid);
    const names = ["", ...session.rooms];
    const positions = await Promise.all(
      names.map((name) => core.store.position(name === "" ? own : roomStream(name))),
    );
    names.forEach((name, i) => streams[name] = positions[i]!);
    let replay: string[] = [];
    let recovered = false;
    if (resumed) {
      const theirs = frame.streams ?? {};
      const gaps = await Promise.all(names.map((name) => {
        const from = theirs[name];
        if (!Array.isArray(from)) return name === "" ? null : [];
        return core.store.since(name === "" ? own : roomStream(name), from);
      }));
      recovered = gaps.every((g) => g !== null);
      if (recovered) replay = gaps.flat() as string[];
    }
    if (peer.readyState !== 1 || link.session !== undefined) return;
    if (!resumed) {
      core.bySid.set(session.sid, session);
      core.byId.set(session.id, session);
    }
    core.persist(session);
    link.session = session;
    session.link = link;
    if (resumed) core.counts.resumed++;
    if (recovered) core.counts.recovered++;
    core.counts.replayed += replay.length;
    session.expiresAt = Infinity;
    session.acked = session.lastSeq;
    peer.send(JSON.stringify({
      t: "welcome",
      v: VERSION,
      sid: session.sid,
      pid: session.id,
      recovered,
      q: session.lastSeq,
      streams,
      n: replay.length,
    }));
    for (const text of replay) peer.send(text);
    for (const room of session.rooms) peer.subscribe(roomTopic(room));
    const connect = opts.connect;
    if (connect) core.run(session, () => connect(session, { resumed, recovered }));
    const waiting = link.waiting;
    link.waiting = undefined;
    for (const text of waiting ?? []) handle(link, text);
  }

  function handle(link: Link<T>, text: string): void {
    if (link.waiting) {
      link.waiting.push(text);
      return;
    }
    const peer = link.peer;
    const frame = parseFrame<ClientFrame>(text);
    if (!frame) return protocolError(peer, "Cannot read the frame: not a session frame");
    const session = link.session;
    if (!session) {
      if (frame.t !== "hello") return protocolError(peer, "Cannot proceed: expected hello first");
      clearTimeout(link.helloTimer);
      link.waiting = [];
      hello(link, frame).catch((error) => {
        core.report(null, error);
        link.waiting = undefined;
        if (peer.readyState < 2) peer.close(1011, "Session handshake failed");
      });
      return;
    }
    if (frame.t === "bye") {
      core.end(session, "closed");
      return;
    }
    if (frame.t === "hello") return protocolError(peer, "Cannot say hello twice");
    const q = (frame as { q?: unknown }).q;
    if (typeof q !== "number" || !Number.isInteger(q)) {
      return protocolError(peer, "Cannot read the frame: no sequence number");
    }
    if (q <= session.lastSeq) {
      // A resend of something already processed: drop it, confirm again.
      core.counts.duplicates++;
      session.acked = 0;
      core.scheduleAck(session);
      return;
    }
    if (q !== session.lastSeq + 1) {
      return protocolError(peer, `Cannot accept frame ${q}: expected ${session.lastSeq + 1}`);
    }
    session.lastSeq = q;
    core.scheduleAck(session);
    dispatch(session, frame);
  }

  function dispatch(session: ServerSession<AnyProtocol, T>, frame: ClientFrame): void {
    switch (frame.t) {
      case "e": {
        const handler = opts.events?.[frame.e];
        if (!handler) {
          core.report(session, new TypeError(`Cannot handle event "${frame.e}": no handler`));
          return;
        }
        core.run(session, () => handler(session, frame.d));
        return;
      }
      case "r": {
        const handler = opts.requests?.[frame.e];
        if (!handler) {
          core.fail(session, frame.q, {
            name: "RemoteError",
            message: `Cannot answer "${frame.e}": the server has no handler for it`,
            code: "unknown_request",
          });
          return;
        }
        answer(session, frame.q, () => handler(session, frame.d));
        return;
      }
      case "j": {
        const room = frame.r;
        const authorize = opts.join;
        answer(session, frame.q, async () => {
          if (typeof room !== "string" || room === "") {
            throw new RemoteError("Cannot join: the room name is empty", { code: "bad_room" });
          }
          const ok = authorize ? await authorize(session, room) : true;
          if (!ok) {
            throw new RemoteError(`Cannot join "${room}": not allowed`, { code: "forbidden" });
          }
          const pos = await core.store.position(roomStream(room));
          session.join(room);
          return pos;
        }, true);
        return;
      }
      case "l":
        session.leave(frame.r);
        core.respond(session, frame.q, null);
        return;
      case "res": {
        const pending = session.pending.get(frame.i);
        if (!pending) return; // answered after its timeout, or after an abort
        if (frame.err) pending.reject(RemoteError.from(frame.err));
        else pending.resolve(frame.d);
        return;
      }
    }
  }

  /**
   * Runs a request handler and answers with its result or its error. For a join the result
   * is the room's position, sent as `pos` so that the client starts counting from it.
   */
  function answer(
    session: ServerSession<AnyProtocol, T>,
    id: number,
    fn: () => unknown,
    isJoin = false,
  ): void {
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      return void fail(session, id, error);
    }
    Promise.resolve(result).then(
      (value) => {
        if (isJoin) core.respond(session, id, null, value as Position);
        else core.respond(session, id, value ?? null);
      },
      (error) => fail(session, id, error),
    );
  }

  function fail(session: ServerSession<AnyProtocol, T>, id: number, error: unknown): void {
    if (error instanceof RemoteError) {
      core.fail(session, id, error.toBody());
      return;
    }
    core.report(session, error);
    core.fail(session, id, { name: "RemoteError", message: "Internal error", code: "internal" });
  }

  const hooks: Hooks<T> = {
    upgrade: async (request, info) => {
      const result = opts.upgrade ? await opts.upgrade(request, info) : undefined;
      if (result instanceof Response) return result;
      if (!info.protocols.includes(SUBPROTOCOL)) {
        if (!plain) {
          return new Response(
            `Upgrade Required: this endpoint speaks the ${SUBPROTOCOL} subprotocol`,
            { status: 426, headers: { "sec-websocket-protocol": SUBPROTOCOL } },
          );
        }
        return result;
      }
      return { ...(result ?? {}), protocol: SUBPROTOCOL };
    },
    start(endpoint) {
      core.endpoint = endpoint;
      plain?.start?.(endpoint);
    },
    relayed(topic, data) {
      if (typeof data === "string") {
        if (topic === TAKEN) {
          core.takenOver(data);
          return true;
        }
        if (topic.startsWith(RELAYED_ROOM)) {
          core.relayedRoom(topic.slice(RELAYED_ROOM.length), data);
          return true;
        }
      }
      return plain?.relayed?.(topic, data) ?? false;
    },
    async stop() {
      await core.close();
      await plain?.stop?.();
    },
    open(peer) {
      if (peer.protocol !== SUBPROTOCOL) return plain?.open?.(peer);
      const link: Link<T> = { peer, session: undefined, helloTimer: undefined, waiting: undefined };
      link.helloTimer = setTimeout(
        () => protocolError(peer, `Cannot wait longer than ${helloTimeout} ms for hello`),
        helloTimeout,
      );
      core.links.set(peer, link);
    },
    message(peer, message) {
      const link = core.links.get(peer);
      if (!link) return plain?.message?.(peer, message);
      if (typeof message !== "string") {
        if (peer.readyState < 2) {
          peer.close(1003, "Cannot read binary frames: the session protocol is text");
        }
        return;
      }
      handle(link, message);
    },
    close(peer, details) {
      const link = core.links.get(peer);
      if (!link) return plain?.close?.(peer, details);
      clearTimeout(link.helloTimer);
      core.links.delete(peer);
      const session = link.session;
      if (!session || session.link !== link) return;
      session.link = undefined;
      clearTimeout(session.ackTimer);
      session.ackTimer = undefined;
      session.expiresAt = Date.now() + core.maxAge;
      core.persist(session, core.maxAge);
      core.startSweeping();
      const hook = opts.disconnect;
      if (hook) return core.run(session, () => hook(session, details)).then(() => {});
    },
    error(peer, error) {
      const link = peer ? core.links.get(peer) : undefined;
      if (peer && !link && plain?.error) return plain.error(peer, error);
      core.report(link?.session ?? null, error);
    },
    drain(peer) {
      if (!core.links.get(peer)) return plain?.drain?.(peer);
    },
  };

  return {
    hooks,
    sessions: core.byId as unknown as ReadonlyMap<string, Session<P, T>>,
    publish: (room, event, payload) => core.toRoom(room, event, payload, undefined),
    stats() {
      let connected = 0;
      for (const session of core.bySid.values()) if (session.link) connected++;
      return { sessions: core.bySid.size, connected, ...core.counts };
    },
    close: () => core.close(),
  };
}
