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
 * ```ts
 * import type { Protocol } from "@wskit/wskit/protocol";
 * import { SessionClient } from "@wskit/wskit/session-client";
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

import { receiveFirst, ReconnectingWebSocket } from "../client/reconnecting.ts";
import type { ClientSendStatus, UrlProvider } from "../client/options.ts";
import { TypedEventTarget } from "../client/_typed_target.ts";
import type { SessionClientEventMap } from "./client_events.ts";
import {
  type JoinOptions,
  type SessionClientOptions,
  type SessionSettings,
  sessionSettings,
} from "./client_options.ts";
import { RemoteError } from "./errors.ts";
import type { AnyProtocol, EventName, Protocol, RequestOptions } from "./types.ts";
import { encodePayload, quote, SUBPROTOCOL } from "./wire.ts";
import { ClientLink, type Ordered } from "./_client_link.ts";
import { answerRequest, awaitAnswer } from "./_requests.ts";
import { ClientPresence } from "./_client_presence.ts";

export * from "./client_events.ts";
export type { JoinOptions, SessionClientOptions } from "./client_options.ts";

/**
 * A session with a wskit `sessions()` server: typed events and requests, rooms, and
 * reconnects that lose nothing within the server's window. The transport is a
 * {@linkcode ReconnectingWebSocket}, exposed as `socket` for its events (`reconnect`,
 * `close` per connection, ...).
 *
 * @typeParam P The protocol, shared with the server code.
 *
 * @example Join a room and talk in it
 * ```ts
 * import { SessionClient } from "@wskit/wskit/session-client";
 *
 * const chat = new SessionClient("ws://127.0.0.1:8000/");
 * chat.on("said", (payload) => console.log(payload));
 * await chat.join("lobby");
 * chat.emit("say", { text: "hello" }); // handled exactly once, even across reconnects
 * ```
 */
export class SessionClient<P extends Protocol = AnyProtocol>
  extends TypedEventTarget<SessionClientEventMap> {
  /** The reconnecting socket underneath. */
  readonly socket: ReconnectingWebSocket;
  #options: SessionSettings;
  #link: ClientLink;
  #rooms = new Set<string>();
  #listeners = new Map<string, Set<(payload: unknown) => void>>();
  #handlers = new Map<string, (payload: unknown) => unknown>();
  #presence = new ClientPresence((event) => this.dispatchEvent(event));

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
    const settings = this.#options = sessionSettings({
      maxPending,
      maxPendingBytes,
      helloTimeout,
      requestTimeout,
      gapTimeout,
      maxOutOfOrder,
    });
    // The session keeps its own outbox (until confirmed), so the socket queues nothing.
    const socket = this.socket = new ReconnectingWebSocket(url, SUBPROTOCOL, {
      heartbeat: true,
      ...socketOptions,
      maxQueued: 0,
    });
    const link = this.#link = new ClientLink(socket, settings, {
      dispatch: (event) => this.dispatchEvent(event),
      deliver: (frame) => this.#deliver(frame),
      rooms: this.#rooms,
      presence: (frame) => this.#presence.received(frame),
      joinText: (room) => this.#presence.joinText(room),
    });
    socket.addEventListener("open", () => link.hello());
    receiveFirst(socket, (data) => link.received(data));
    socket.addEventListener("close", () => link.disconnected());
  }

  /** The session's public id (`""` before the first welcome). */
  get id(): string {
    return this.#link.pid;
  }

  /** 0 connecting (or resuming), 1 ready, 3 closed for good. */
  get readyState(): number {
    return this.#link.readyState;
  }

  /** Whether the last (re)connect replayed everything that was missed. */
  get recovered(): boolean {
    return this.#link.recovered;
  }

  /** The rooms this client is in (or joining). */
  get rooms(): ReadonlySet<string> {
    return this.#rooms;
  }

  /** Messages sent or queued and not yet confirmed by the server. */
  get pending(): number {
    return this.#link.outbox.items.length;
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
    const [type, json] = encodePayload("e", payload);
    return this.#link.enqueue("e", event, payload, `["${type}",${quote(event)},${json}]`);
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
    const [type, json] = encodePayload("r", payload);
    return this.#call("r", event, payload, `["${type}",${quote(event)},${json}]`, options);
  }

  /**
   * Joins a room: its events reach this client from now on, and after any reconnect (the
   * client joins again by itself if the server lost the session). With presence on at the
   * server, `presence` is the data the room's members see.
   *
   * @throws {RemoteError} When the server refuses (code `"forbidden"`, `"bad_room"`,
   * `"too_many_rooms"`, `"room_full"` or `"presence_too_large"`).
   */
  async join(room: string, options: JoinOptions = {}): Promise<void> {
    if (typeof room !== "string" || room === "") {
      throw new TypeError("Cannot join: the room name must be a non-empty string");
    }
    const { presence, ...request } = options;
    if (presence !== undefined) this.#presence.mine.set(room, presence);
    this.#presence.joining(room);
    this.#rooms.add(room);
    this.#link.streams.expect(room);
    try {
      const text = this.#presence.joinText(room);
      await this.#call("j", "$join", room, text, request, room);
    } catch (error) {
      this.#rooms.delete(room);
      this.#link.streams.forget(room);
      this.#presence.forget(room);
      throw error;
    }
  }

  /**
   * The members of a room this client is in (joined by itself, or by the server), by public
   * id, with their presence data: a live map, current as `presence` events arrive (empty
   * with presence off at the server).
   */
  presence(room: string): ReadonlyMap<string, unknown> {
    return this.#presence.members(room);
  }

  /**
   * Changes the presence data this client shows in a room it is in.
   *
   * @throws {TypeError} When the client is not in the room, or for data JSON cannot carry.
   * @throws {RemoteError} When the server refuses (code `"presence_too_large"`, or its own).
   */
  async setPresence(room: string, data: unknown, options: RequestOptions = {}): Promise<void> {
    if (!this.#rooms.has(room)) {
      throw new TypeError(`Cannot show presence in ${quote(room)}: the client is not in it`);
    }
    const text = `["y",${quote(room)},${JSON.stringify(data ?? null)}]`;
    this.#presence.mine.set(room, data);
    await this.#call("y", "$presence", data, text, options);
  }

  /** Leaves a room. */
  async leave(room: string, options: RequestOptions = {}): Promise<void> {
    this.#rooms.delete(room);
    this.#link.streams.forget(room);
    this.#presence.forget(room);
    await this.#call("l", "$leave", room, `["l",${JSON.stringify(room)}]`, options);
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
    if (this.#link.closed) return;
    if (this.#link.ready) this.socket.send(`["b"]`);
    this.socket.close(code, reason);
  }

  #call(
    t: "r" | "j" | "l" | "y",
    event: string,
    payload: unknown,
    text: string,
    options: RequestOptions,
    room?: string,
  ): Promise<never> {
    // Cancelled: an unsent request leaves the outbox (never sent later); a sent one's answer
    // will find no taker.
    return awaitAnswer(
      event,
      options,
      this.#options.requestTimeout,
      (waiter) => {
        if (this.#link.enqueue(t, event, payload, text, waiter) !== "dropped") return;
        const closed = this.#link.closed;
        throw new RemoteError(`Cannot send "${event}": ${closed ? "closed" : "too many pending"}`, {
          code: closed ? "closed" : "overflow",
        });
      },
      (waiter) => this.#link.outbox.withdraw(waiter),
      room,
    );
  }

  /** A frame in its turn. */
  #deliver(frame: Extract<Ordered, { t: "e" | "r" }>): void {
    switch (frame.t) {
      case "e":
        if (frame.x === this.#link.pid) return;
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
    }
  }

  #answer(id: number, event: string, payload: unknown): void {
    answerRequest(this.#handlers.get(event), event, payload, (type, json, value) => {
      this.#link.enqueue("res", event, value, `["${type}",${id},${json}]`);
    }, (message, error) => this.#error(message, error));
  }

  #error(message: string, error?: unknown): void {
    this.dispatchEvent(new ErrorEvent("error", { message, error }));
  }
}
