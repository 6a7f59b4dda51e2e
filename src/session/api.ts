/**
 * The session layer's server-side API: what a `Session` offers to handlers, the options of
 * `sessions()` and what it returns.
 *
 * @module
 */

import type { Awaitable, CloseDetails, Hooks } from "../server/types.ts";
import type { Peer } from "../server/types.ts";
import type { LogWindow, SessionStore } from "./store.ts";
import type { AnyProtocol, EventName, Protocol, RequestOptions } from "./types.ts";

/** Options of {@linkcode Session.publish}. */
export interface SessionPublishOptions {
  /**
   * Deliver to the publishing session too.
   *
   * @default {false}
   */
  self?: boolean;
}

/**
 * Why a session ended: its client said goodbye or `close()` was called (`"closed"`), its
 * window passed while disconnected (`"expired"`), the server stopped (`"shutdown"`), or it
 * was the oldest disconnected session when a new one needed its place (`"evicted"`).
 */
export type EndReason = "closed" | "expired" | "shutdown" | "evicted";

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
  /**
   * Adds the session to a room (no authorization: the server decides).
   *
   * @throws {RemoteError} With code `"bad_room"` when the name is empty or longer than
   * `limits.maxRoomNameBytes`, `"too_many_rooms"` when the session is in
   * `limits.maxRoomsPerSession` rooms already (thrown from a handler, it reaches the client).
   */
  join(room: string, presence?: unknown): void;
  /** Takes the session out of a room. */
  leave(room: string): void;
  /**
   * Sets this session's presence data in a room it is in (with `presence` on): every member
   * of the room hears of it. No hook runs and no bound applies: the server decides.
   *
   * @throws {TypeError} For data JSON cannot carry.
   */
  setPresence(room: string, data: unknown): void;
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
  /** Bounds on what clients can make the server hold; see {@linkcode SessionLimits}. */
  limits?: SessionLimits;
  /**
   * Presence: who is in each room, across every instance sharing the store. Off unless
   * given; `true` turns it on with the defaults.
   */
  presence?: boolean | PresenceOptions<P, T>;
}

/**
 * Options of presence (`sessions({ presence })`): every room member is a presence member,
 * with public data (JSON) that every member of the room sees.
 *
 * @typeParam P The protocol.
 * @typeParam T The per-session data type.
 */
export interface PresenceOptions<P extends Protocol, T> {
  /**
   * Milliseconds an instance's lease in a shared store lasts; it is renewed every third of
   * it. The members of an instance that died leave everyone's view within `lease` plus a
   * third of it.
   *
   * @default {15000}
   */
  lease?: number;
  /**
   * Authorizes or rewrites what a client asks to show (at a join, or with `setPresence`):
   * returns the data to publish; a thrown {@linkcode RemoteError} refuses the join or the
   * update with its message and code. Default: the client's data as it is (within
   * `limits.maxPresenceBytes`).
   */
  accept?(
    session: Session<P, T>,
    room: string,
    data: unknown,
  ): unknown;
}

/** A member of a room, as {@linkcode SessionServer.presence} lists it. */
export interface PresenceMember {
  /** The session's public id. */
  id: string;
  /** Its presence data. */
  data: unknown;
}

/**
 * Bounds on what clients can make the session layer hold. Each has a default; a client past
 * one gets an error answer or a close code that says which, never a crash.
 */
export interface SessionLimits {
  /**
   * Longest room name, in UTF-8 bytes; a longer join is refused with code `"bad_room"`.
   *
   * @default {128}
   */
  maxRoomNameBytes?: number;
  /**
   * Rooms one session may be in; a join past it is refused with code `"too_many_rooms"`.
   *
   * @default {64}
   */
  maxRoomsPerSession?: number;
  /**
   * Live sessions (connected, or waiting for their client within the window). A new session
   * past it takes the place of the oldest disconnected one (which ends with reason
   * `"evicted"`); when every session is connected, the new connection is closed with 1013.
   *
   * @default {10000}
   */
  maxSessions?: number;
  /**
   * New sessions per second, with one second of burst; past it a hello is answered with
   * close code 1013 (try again later), which `SessionClient` retries with backoff.
   *
   * @default {1000}
   */
  maxSessionsPerSecond?: number;
  /**
   * Client frames a session holds received but not yet confirmed (handled, and their effects
   * recorded by the store); past it the connection is closed with 1008. `SessionClient`
   * never sends more than its `maxPending`, whose default is the same.
   *
   * @default {10000}
   */
  maxUnconfirmed?: number;
  /**
   * Bytes of those frames.
   *
   * @default {8388608}
   */
  maxUnconfirmedBytes?: number;
  /**
   * Bytes of the JSON of a client's presence data; a join or update with more is refused with
   * code `"presence_too_large"`.
   *
   * @default {512}
   */
  maxPresenceBytes?: number;
  /**
   * Members of one room (with presence on), across instances; a client's join past it is
   * refused with code `"room_full"` (a join the server makes itself is not).
   *
   * @default {1000}
   */
  maxMembersPerRoom?: number;
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
  /**
   * The members of `room` (with `presence` on): every instance's, as this instance sees them
   * (read from the shared store when no local session is in the room).
   */
  presence(room: string): Promise<PresenceMember[]>;
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
  /** Gaps a client asked to have filled from the store. */
  fills: number;
  /** Sessions ended to make room for new ones (`limits.maxSessions`). */
  evicted: number;
  /** Connections refused a session by `maxSessions` or `maxSessionsPerSecond`. */
  refused: number;
  /** Times a store write failed and a connection was closed with 1011 instead of confirming. */
  storeFailures: number;
  /** Presence memberships of this instance's sessions (sum it over instances for a total). */
  presence: number;
}
