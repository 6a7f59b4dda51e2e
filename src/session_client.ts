/**
 * The session layer, client side: `SessionClient`, on top of `ReconnectingWebSocket`, for
 * Deno, Bun and browsers (Web standards only; no server code).
 *
 * What it adds to a reconnecting socket: typed events and requests, rooms that survive
 * reconnects, and delivery that loses nothing within the server's window. Every message
 * from the server carries an offset; after a reconnect the client names its last offsets
 * and the server replays the gap, or says it cannot (`recovered: false`, then a `resync`
 * event). Every message to the server carries a sequence number and stays pending until the
 * server confirms it; after a reconnect the unconfirmed ones are sent again and the server
 * drops duplicates, so each is handled once.
 *
 * Order on every (re)connect: hello and welcome (the server authenticates and resumes),
 * replay of what was missed, rooms joined again if the session was new, pending messages
 * sent, then the `open` event.
 *
 * @example A typed chat client
 * ```ts ignore
 * import { type Protocol, SessionClient } from "jsr:@wskit/wskit/session-client";
 *
 * interface Chat extends Protocol {
 *   clientEvents: { say: { text: string } };
 *   serverEvents: { said: { from: string; text: string } };
 *   clientRequests: { whoami: { payload: null; result: string } };
 *   serverRequests: Record<never, never>;
 * }
 *
 * const chat = new SessionClient<Chat>("ws://127.0.0.1:8000/?user=ada");
 * chat.on("said", ({ from, text }) => console.log(`${from}: ${text}`));
 * await chat.join("lobby");
 * chat.emit("say", { text: "hello" });
 * console.log(await chat.request("whoami", null, { timeout: 5000 }));
 * ```
 *
 * @module
 */

import { ReconnectingWebSocket } from "./client.ts";
import type {
  ClientSendStatus,
  ReconnectingWebSocketOptions,
  UrlProvider,
} from "./client_options.ts";
import {
  type ErrorBody,
  frameText,
  parseFrame,
  type Position,
  type ServerFrame,
  SUBPROTOCOL,
  VERSION,
} from "./protocol.ts";
import {
  ResyncEvent,
  type SessionClientEventMap,
  SessionDropEvent,
  SessionOpenEvent,
  type Unconfirmed,
} from "./session_client_events.ts";
import { RemoteError } from "./session_errors.ts";
import type { AnyProtocol, EventName, Protocol, RequestOptions } from "./session_types.ts";
import { Outbox, type Outgoing, type Pending } from "./_session_outbox.ts";
import { Streams } from "./_session_streams.ts";

export * from "./session_client_events.ts";
export { RemoteError } from "./session_errors.ts";
export { ReconnectingWebSocket } from "./client.ts";
export {
  ConnectingEvent,
  DropEvent,
  type DropReason,
  GiveUpEvent,
  type GiveUpReason,
  ReconnectEvent,
  type ReconnectingWebSocketEventMap,
  type ReconnectingWebSocketHandler,
  type ReconnectingWebSocketListener,
} from "./client_events.ts";
export {
  backoffDelay,
  type BackoffOptions,
  type ClientHeartbeatOptions,
  type ClientSendStatus,
  defaultShouldReconnect,
  type IncomingData,
  type OutgoingData,
  type ProtocolsProvider,
  type ReconnectingWebSocketOptions,
  type UrlProvider,
} from "./client_options.ts";
export type { ErrorBody, Position } from "./protocol.ts";
export type {
  AnyProtocol,
  EventName,
  Protocol,
  RequestOptions,
  RequestShape,
} from "./session_types.ts";

/** Options of {@linkcode SessionClient}: the reconnecting socket's, plus the session's. */
export interface SessionClientOptions
  extends Omit<ReconnectingWebSocketOptions, "maxQueuedMessages" | "maxQueuedBytes"> {
  /**
   * Messages kept until the server confirms them (sent or not yet sent).
   *
   * @default {10000}
   */
  maxPending?: number;
  /**
   * Bytes of those messages.
   *
   * @default {8388608}
   */
  maxPendingBytes?: number;
  /**
   * Milliseconds to wait for the server's welcome after connecting, before trying again.
   *
   * @default {10000}
   */
  helloTimeout?: number;
  /**
   * The timeout of requests that do not give one, in milliseconds.
   *
   * @default {10000}
   */
  requestTimeout?: number;
  /**
   * Milliseconds a gap in a stream (a frame that arrived ahead of its turn, say from another
   * server instance) is waited for before the client asks the server to fill it.
   *
   * @default {250}
   */
  gapTimeout?: number;
  /**
   * Frames held while waiting for a gap to close; past it the client reconnects and resumes.
   *
   * @default {10000}
   */
  maxOutOfOrder?: number;
}

/** A frame that carries an offset in a stream. */
type Ordered = Extract<ServerFrame, { o: number }>;

const DEFAULTS = {
  maxPending: 10_000,
  maxPendingBytes: 8 * 1024 * 1024,
  helloTimeout: 10_000,
  requestTimeout: 10_000,
  gapTimeout: 250,
  maxOutOfOrder: 10_000,
};

/**
 * A session with a wskit `sessions()` server: typed events and requests, rooms, and
 * reconnects that lose nothing within the server's window. The transport is a
 * {@linkcode ReconnectingWebSocket}, exposed as `socket` for its events (`reconnect`,
 * `close` per connection, ...).
 *
 * @typeParam P The protocol, shared with the server code.
 */
export class SessionClient<P extends Protocol = AnyProtocol> extends EventTarget {
  /** The reconnecting socket underneath. */
  readonly socket: ReconnectingWebSocket;
  #options: typeof DEFAULTS;
  #sid: string | undefined;
  #pid = "";
  #recovered = false;
  #hadSession = false;
  #ready = false;
  #closed = false;
  #replayLeft = 0;
  #welcome: { resumed: boolean; recovered: boolean } | undefined;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #streams: Streams<Ordered>;
  #outbox: Outbox;
  #rooms = new Set<string>();
  #listeners = new Map<string, Set<(payload: unknown) => void>>();
  #handlers = new Map<string, (payload: unknown) => unknown>();

  /**
   * Creates the client and starts connecting.
   *
   * @param url The server's URL, or a function called before every attempt.
   * @param options Reconnect, heartbeat and session options.
   * @throws {TypeError} When the URL is not a WebSocket URL.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(url: UrlProvider, options: SessionClientOptions = {}) {
    super();
    const {
      maxPending,
      maxPendingBytes,
      helloTimeout,
      requestTimeout,
      gapTimeout,
      maxOutOfOrder,
      ...socketOptions
    } = options;
    this.#options = {
      maxPending: maxPending ?? DEFAULTS.maxPending,
      maxPendingBytes: maxPendingBytes ?? DEFAULTS.maxPendingBytes,
      helloTimeout: helloTimeout ?? DEFAULTS.helloTimeout,
      requestTimeout: requestTimeout ?? DEFAULTS.requestTimeout,
      gapTimeout: gapTimeout ?? DEFAULTS.gapTimeout,
      maxOutOfOrder: maxOutOfOrder ?? DEFAULTS.maxOutOfOrder,
    };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!(value > 0)) {
        throw new RangeError(`Cannot configure the session: ${name} must be > 0, got ${value}`);
      }
    }
    const o = this.#options;
    this.#outbox = new Outbox(o.maxPending, o.maxPendingBytes);
    this.#streams = new Streams<Ordered>(
      {
        deliver: (frame) => this.#deliver(frame),
        fill: (stream, from) =>
          this.socket.send(`{"t":"g","s":${JSON.stringify(stream)},"p":${JSON.stringify(from)}}`),
        lost: () => this.dispatchEvent(new ResyncEvent("gap")),
        stuck: (why) => this.socket.reconnect(why),
      },
      o.gapTimeout,
      o.maxOutOfOrder,
    );
    // The session keeps its own outbox (until confirmed), so the socket queues nothing.
    this.socket = new ReconnectingWebSocket(url, SUBPROTOCOL, {
      heartbeat: true,
      ...socketOptions,
      maxQueuedMessages: 0,
    });
    this.socket.addEventListener("open", () => this.#hello());
    this.socket.addEventListener("message", (e) => this.#received(e.data));
    this.socket.addEventListener("close", () => this.#disconnected());
  }

  /** The session's public id (`""` before the first welcome). */
  get id(): string {
    return this.#pid;
  }

  /** 0 connecting (or resuming), 1 ready, 3 closed for good. */
  get readyState(): number {
    return this.#closed ? 3 : this.#ready && this.#replayLeft === 0 ? 1 : 0;
  }

  /** Whether the last (re)connect replayed everything that was missed. */
  get recovered(): boolean {
    return this.#recovered;
  }

  /** The rooms this client is in (or joining). */
  get rooms(): ReadonlySet<string> {
    return this.#rooms;
  }

  /** Messages sent or queued and not yet confirmed by the server. */
  get pending(): number {
    return this.#outbox.items.length;
  }

  /**
   * Sends an event to the server; it is handled exactly once, even across reconnects within
   * the server's window.
   *
   * @returns `"sent"`, `"queued"` (goes out once connected), or `"dropped"` (the pending
   * bounds are full, or the client is closed; a `drop` event says which).
   * @throws {TypeError} For a payload JSON cannot carry.
   */
  emit<K extends EventName<P["clientEvents"]>>(
    event: K,
    payload: P["clientEvents"][K],
  ): ClientSendStatus {
    return this.#enqueue("e", event, payload, frameText(`"e":${JSON.stringify(event)}`, payload));
  }

  /**
   * Asks the server and resolves with its handler's result.
   *
   * @throws {RemoteError} When the handler threw a `RemoteError` (its message and code), or
   * failed ("Internal error"), or there is none (code `"unknown_request"`).
   * @throws {DOMException} `TimeoutError` after the timeout (counted from the call, also
   * while disconnected), or the signal's reason when aborted.
   */
  request<K extends EventName<P["clientRequests"]>>(
    event: K,
    payload: P["clientRequests"][K]["payload"],
    options: RequestOptions = {},
  ): Promise<P["clientRequests"][K]["result"]> {
    return this.#call(
      "r",
      event,
      payload,
      frameText(`"e":${JSON.stringify(event)}`, payload),
      options,
    );
  }

  /**
   * Joins a room: its events reach this client from now on, and after any reconnect (the
   * client joins again by itself if the server lost the session).
   *
   * @throws {RemoteError} When the server refuses (code `"forbidden"`, `"bad_room"` or
   * `"too_many_rooms"`).
   */
  async join(room: string, options: RequestOptions = {}): Promise<void> {
    if (typeof room !== "string" || room === "") {
      throw new TypeError("Cannot join: the room name must be a non-empty string");
    }
    this.#rooms.add(room);
    this.#streams.expect(room);
    try {
      await this.#call("j", "$join", room, `"r":${JSON.stringify(room)}}`, options, room);
    } catch (error) {
      this.#rooms.delete(room);
      this.#streams.forget(room);
      throw error;
    }
  }

  /** Leaves a room. */
  async leave(room: string, options: RequestOptions = {}): Promise<void> {
    this.#rooms.delete(room);
    this.#streams.forget(room);
    await this.#call("l", "$leave", room, `"r":${JSON.stringify(room)}}`, options);
  }

  /**
   * Listens to a server event.
   *
   * @returns A function that stops listening.
   */
  on<K extends EventName<P["serverEvents"]>>(
    event: K,
    listener: (payload: P["serverEvents"][K]) => void,
  ): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, set = new Set());
    const fn = listener as (payload: unknown) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  /**
   * Answers the server's requests named `event` with what `handler` returns; a thrown
   * `RemoteError` reaches the server as such.
   *
   * @returns A function that removes the handler.
   */
  handle<K extends EventName<P["serverRequests"]>>(
    event: K,
    handler: (
      payload: P["serverRequests"][K]["payload"],
    ) => P["serverRequests"][K]["result"] | Promise<P["serverRequests"][K]["result"]>,
  ): () => void {
    this.#handlers.set(event, handler as (payload: unknown) => unknown);
    return () => {
      if (this.#handlers.get(event) === handler) this.#handlers.delete(event);
    };
  }

  /**
   * Ends the session for good: the server forgets it at once, pending requests reject.
   *
   * @param code 1000 or 3000-4999.
   * @param reason At most 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string): void {
    if (this.#closed) return;
    if (this.#ready) this.socket.send(`{"t":"bye"}`);
    this.socket.close(code, reason);
  }

  /**
   * Adds a listener; typed for the events of {@linkcode SessionClientEventMap}.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.addEventListener`.
   */
  override addEventListener<K extends keyof SessionClientEventMap>(
    type: K,
    listener: ((event: SessionClientEventMap[K]) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener for any event type.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.addEventListener`.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  #call(
    t: "r" | "j" | "l",
    event: string,
    payload: unknown,
    rest: string,
    options: RequestOptions,
    room?: string,
  ): Promise<never> {
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(signal.reason);
      const timeout = options.timeout ?? this.#options.requestTimeout;
      const done = () => {
        clearTimeout(entry.timer);
        signal?.removeEventListener("abort", onAbort);
      };
      // Cancelled: an unsent request leaves the outbox (never sent later); a sent one's
      // answer will find no taker.
      const cancel = (error: unknown) => {
        done();
        this.#outbox.withdraw(entry);
        reject(error);
      };
      const onAbort = () => cancel(signal!.reason);
      const entry: Pending = {
        resolve(value) {
          done();
          resolve(value as never);
        },
        reject(error) {
          done();
          reject(error);
        },
        timer: undefined,
        ...(room === undefined ? {} : { room }),
      };
      const status = this.#enqueue(t, event, payload, rest, entry);
      if (status === "dropped") {
        const closed = this.#closed;
        return reject(
          new RemoteError(`Cannot send "${event}": ${closed ? "closed" : "too many pending"}`, {
            code: closed ? "closed" : "overflow",
          }),
        );
      }
      entry.timer = setTimeout(() =>
        cancel(
          new DOMException(
            `Cannot get an answer to "${event}": no reply within ${timeout} ms`,
            "TimeoutError",
          ),
        ), timeout);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #enqueue(
    t: Outgoing["t"],
    event: string,
    payload: unknown,
    frameRest: string,
    pending?: Pending,
  ): ClientSendStatus {
    if (this.#closed) {
      this.dispatchEvent(new SessionDropEvent("closed", event));
      return "dropped";
    }
    // frameRest is "{...}" for events and requests, and `..."}` for rooms: keep what follows "{".
    const rest = frameRest.startsWith("{") ? frameRest.slice(1) : frameRest;
    const m = this.#outbox.add(t, event, payload, rest, pending);
    if (!m) {
      this.dispatchEvent(new SessionDropEvent("overflow", event));
      return "dropped";
    }
    if (this.readyState === 1) {
      this.#transmit(m);
      return "sent";
    }
    return "queued";
  }

  #transmit(m: Outgoing): void {
    this.socket.send(`{"t":"${m.t}","q":${m.q},${m.rest}`);
    m.sent = true;
  }

  #hello(): void {
    this.#ready = false;
    const hello = this.#sid === undefined
      ? { t: "hello", v: VERSION }
      : { t: "hello", v: VERSION, sid: this.#sid, streams: this.#streams.positions() };
    this.socket.send(JSON.stringify(hello));
    clearTimeout(this.#helloTimer);
    this.#helloTimer = setTimeout(
      () => this.socket.reconnect("no welcome from the server"),
      this.#options.helloTimeout,
    );
  }

  #disconnected(): void {
    clearTimeout(this.#helloTimer);
    this.#ready = false;
    this.#replayLeft = 0;
    this.#streams.clear();
    if (this.socket.readyState !== ReconnectingWebSocket.CLOSED || this.#closed) return;
    // Closed for good: nothing will be confirmed any more.
    this.#closed = true;
    for (const p of [...this.#outbox.pending.values()]) {
      p.reject(new RemoteError("Cannot get an answer: the client is closed", { code: "closed" }));
    }
    this.#outbox.clear();
    this.dispatchEvent(new CloseEvent("close", { code: 1000, reason: "closed", wasClean: true }));
  }

  #received(data: unknown): void {
    if (typeof data !== "string") return this.#fault("a binary frame");
    const frame = parseFrame<ServerFrame>(data);
    if (!frame) return this.#fault("an unreadable frame");
    if (frame.t === "welcome") return this.#welcomed(frame);
    if (!this.#ready) return this.#fault(`"${frame.t}" before the welcome`);
    switch (frame.t) {
      case "ack":
        this.#outbox.confirm(frame.q);
        break;
      case "p":
        this.#streams.hint(frame.s, frame.o);
        break;
      case "lost":
        this.#streams.lost(frame.s, frame.o);
        break;
      case "epoch":
        if (this.#streams.restart(frame.e)) this.dispatchEvent(new ResyncEvent("not-recovered"));
        break;
      case "e":
      case "r":
      case "res":
        this.#streams.offer(frame.t === "e" ? frame.s ?? "" : "", frame.o, frame);
        break;
    }
    if (
      (frame.t === "e" || frame.t === "r" || frame.t === "res") && this.#replayLeft > 0 &&
      --this.#replayLeft === 0
    ) {
      this.#resumed();
    }
  }

  /** A frame in its turn. */
  #deliver(frame: Ordered): void {
    switch (frame.t) {
      case "e":
        if (frame.x === this.#pid) return;
        for (const fn of this.#listeners.get(frame.e) ?? []) {
          try {
            fn(frame.d);
          } catch (error) {
            this.#error(`a listener of "${frame.e}" failed`, error);
          }
        }
        return;
      case "r":
        return this.#answer(frame.i, frame.e, frame.d);
      case "res":
        return this.#resolved(frame.i, frame.d, frame.err, frame.pos);
    }
  }

  #welcomed(w: Extract<ServerFrame, { t: "welcome" }>): void {
    clearTimeout(this.#helloTimer);
    const resumed = this.#sid !== undefined && w.sid === this.#sid;
    this.#sid = w.sid;
    this.#pid = w.pid;
    const streams = this.#streams;
    streams.epoch = Object.values(w.streams)[0]?.[0] ?? streams.epoch;
    this.#recovered = w.recovered;
    this.#ready = true;
    const unconfirmed: Unconfirmed[] = [];
    if (resumed) {
      this.#outbox.confirm(w.q);
      if (!w.recovered) streams.reset(w.streams);
    } else {
      streams.reset(w.streams);
      this.#newSession(unconfirmed);
    }
    this.#welcome = { resumed, recovered: w.recovered };
    const hadSession = this.#hadSession;
    this.#hadSession = true;
    if (!w.recovered && hadSession) {
      this.dispatchEvent(new ResyncEvent(resumed ? "not-recovered" : "new-session", unconfirmed));
    }
    this.#replayLeft = w.n;
    if (w.n === 0) this.#resumed();
  }

  /**
   * The server does not know this client's session (any more): what was sent to the lost one
   * may or may not have been handled (reported in `unconfirmed`); what was never sent goes to
   * the new session, after joining the rooms again.
   */
  #newSession(unconfirmed: Unconfirmed[]): void {
    const outbox = this.#outbox;
    const unsent: Outgoing[] = [];
    for (const m of outbox.items) {
      if (m.t === "res") continue; // an answer to the lost session's request: moot
      if (!m.sent) {
        unsent.push(m);
        continue;
      }
      if (m.t === "j") {
        // A join in flight is sent again below, with the other rooms.
        outbox.pending.delete(m.q);
        m.pending?.resolve(undefined);
        continue;
      }
      unconfirmed.push({ event: m.event, payload: m.payload });
      outbox.pending.delete(m.q);
      m.pending?.reject(
        new RemoteError(`Cannot confirm "${m.event}": the session was lost`, {
          code: "session_lost",
        }),
      );
    }
    // Requests confirmed but unanswered by the lost session will never be answered.
    const unsentPending = new Set(unsent.map((m) => m.pending));
    for (const p of [...outbox.pending.values()]) {
      if (unsentPending.has(p)) continue;
      p.reject(
        new RemoteError("Cannot get an answer: the session was lost", { code: "session_lost" }),
      );
    }
    outbox.pending.clear();
    const rejoin: Outgoing[] = [];
    if (this.#hadSession) {
      for (const room of this.#rooms) {
        if (unsent.some((m) => m.t === "j" && m.payload === room)) continue;
        const rest = `"r":${JSON.stringify(room)}}`;
        this.#streams.expect(room);
        rejoin.push({
          q: 0,
          rest,
          t: "j",
          event: "$join",
          payload: room,
          size: rest.length + 24,
          sent: false,
          // Its answer says where the room stands; nobody else waits for it.
          pending: { resolve() {}, reject() {}, timer: undefined, room },
        });
      }
    }
    outbox.replace([...rejoin, ...unsent]);
  }

  /** The replay is over: send what is pending, in order, then announce the session open. */
  #resumed(): void {
    for (const m of this.#outbox.items) {
      if (this.socket.readyState !== ReconnectingWebSocket.OPEN) return;
      this.#transmit(m);
    }
    const w = this.#welcome!;
    this.dispatchEvent(new SessionOpenEvent(w.resumed, w.recovered));
  }

  #resolved(id: number, data: unknown, err: ErrorBody | undefined, pos?: Position): void {
    const pending = this.#outbox.pending.get(id);
    if (!pending) return;
    this.#outbox.pending.delete(id);
    if (err) return pending.reject(RemoteError.from(err));
    if (pending.room !== undefined && this.#rooms.has(pending.room)) {
      if (Array.isArray(pos)) this.#streams.base(pending.room, pos);
    }
    pending.resolve(data);
  }

  #answer(id: number, event: string, payload: unknown): void {
    const handler = this.#handlers.get(event);
    const reply = (ok: boolean, value: unknown) => {
      const head = `"i":${id}`;
      let rest: string;
      try {
        rest = ok ? frameText(head, value ?? null) : `{${head},"err":${JSON.stringify(value)}}`;
      } catch (error) {
        // A result JSON cannot carry (a cycle, a BigInt): the server hears "Internal error".
        this.#error(`the result of "${event}" cannot be sent`, error);
        rest =
          `{${head},"err":{"name":"RemoteError","message":"Internal error","code":"internal"}}`;
      }
      this.#enqueue("res", event, value, rest);
    };
    if (!handler) {
      return reply(false, {
        name: "RemoteError",
        message: `Cannot answer "${event.slice(0, 40)}": the client has no handler for it`,
        code: "unknown_request",
      });
    }
    Promise.resolve().then(() => handler(payload)).then(
      (value) => reply(true, value),
      (error) => {
        if (error instanceof RemoteError) return reply(false, error.toBody());
        this.#error(`the handler of "${event}" failed`, error);
        reply(false, { name: "RemoteError", message: "Internal error", code: "internal" });
      },
    );
  }

  #fault(what: string): void {
    this.#error(`Cannot read the server: it sent ${what}`);
    this.socket.reconnect("protocol error");
  }

  #error(message: string, error?: unknown): void {
    this.dispatchEvent(new ErrorEvent("error", { message, error }));
  }
}
