/**
 * `ReconnectingWebSocket`: the public surface of the reconnecting client (the `WebSocket`
 * members, the outbox, the listeners); its lifecycle lives in `_connector.ts`.
 *
 * @module
 */

import { Connector } from "./_connector.ts";
import { watchEnvironment } from "./_env.ts";
import { Heartbeat } from "./_heartbeat.ts";
import { messages } from "./_iterate.ts";
import { byteSize, Outbox } from "./_outbox.ts";
import { hasListened, TypedEventTarget } from "./_typed_target.ts";
import type { ClientCloseEvent } from "./errors.ts";
import { DropEvent, type ReconnectingWebSocketEventMap } from "./events.ts";
import {
  checkClientClose,
  type ClientSendStatus,
  clientSettings,
  type IncomingData,
  type OutgoingData,
  type ProtocolsProvider,
  type ReconnectingWebSocketOptions,
  type UrlProvider,
} from "./options.ts";

/**
 * An `on*` property of {@linkcode ReconnectingWebSocket}.
 *
 * @typeParam E The event class.
 */
export type ReconnectingWebSocketHandler<E> =
  | ((this: ReconnectingWebSocket, event: E) => unknown)
  | null;

type HandlerType = "open" | "message" | "close" | "error";

type Receiver = (data: IncomingData) => void;
let receive: (socket: ReconnectingWebSocket, receiver: Receiver) => void;

/**
 * Hands every message of `socket` (heartbeat pongs excepted) to `receiver` before its
 * listeners: the session client reads the wire so, and a message event is built only for a
 * socket whose messages the application listens to.
 */
export function receiveFirst(socket: ReconnectingWebSocket, receiver: Receiver): void {
  receive(socket, receiver);
}

/**
 * A `WebSocket` that reconnects: the same constructor, properties, methods and events, plus
 * backoff with jitter, URL and subprotocol providers, an outbox for messages sent while down,
 * a heartbeat, a close-code policy, typed state events and `for await` over messages.
 *
 * Every attempt dispatches `connecting`, then exactly one `close` (after an `open` or not),
 * then either `reconnect` (a retry is scheduled) or, when the client stops on its own,
 * `giveup`. In a `close` listener, `readyState` is already `CONNECTING` when a reconnect
 * follows and `CLOSED` when this close was the last. Messages queued when the client stops
 * for good are reported in a `drop` event. An attempt that fails before it opens says why
 * (a {@linkcode ConnectError} on its `error` and `close` events, and a `close` reason that
 * reads "connect failed: ..."); one that cannot succeed later (an HTTP 403 answer to the
 * upgrade, a refused subprotocol) stops the client with the default policy. `reconnect()`
 * starts a closed client again.
 *
 * @example Drop-in, with the outbox and state events
 * ```ts
 * import { ReconnectingWebSocket } from "@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket(
 *   async () => `wss://example.com/live?token=${await token()}`,
 * );
 * ws.binaryType = "arraybuffer"; // kept across reconnects
 * ws.onmessage = (e) => console.log(e.data);
 * ws.addEventListener("close", (e) => console.log(`closed ${e.code} ${e.reason}`));
 * ws.addEventListener("reconnect", (e) => console.log(`retry #${e.attempt} in ${e.delay} ms`));
 * ws.addEventListener("giveup", (e) => console.log(`gave up (${e.reason}): ${e.message}`));
 * ws.addEventListener("drop", (e) => console.warn(`dropped ${e.messages.length}: ${e.reason}`));
 * if (ws.send("hello") === "dropped") console.warn("the outbox is full");
 * ws.close(); // for good
 *
 * declare function token(): Promise<string>;
 * ```
 */
export class ReconnectingWebSocket extends TypedEventTarget<ReconnectingWebSocketEventMap> {
  /** Connecting, or waiting to reconnect. */
  static readonly CONNECTING: 0 = 0;
  /** Open: `send()` goes straight out. */
  static readonly OPEN: 1 = 1;
  /** `close()` was called; waiting for the closing handshake. */
  static readonly CLOSING: 2 = 2;
  /** Closed for good: after `close()` or giving up. */
  static readonly CLOSED: 3 = 3;
  /** Connecting, or waiting to reconnect. */
  readonly CONNECTING: 0 = 0;
  /** Open: `send()` goes straight out. */
  readonly OPEN: 1 = 1;
  /** `close()` was called; waiting for the closing handshake. */
  readonly CLOSING: 2 = 2;
  /** Closed for good: after `close()` or giving up. */
  readonly CLOSED: 3 = 3;

  #c: Connector;
  #heartbeat: Heartbeat | undefined;
  #outbox: Outbox;
  #binaryType: "blob" | "arraybuffer" = "blob";
  #handlers: Partial<Record<HandlerType, ReconnectingWebSocketHandler<Event>>> = {};
  #environment: EventTarget | null | undefined;
  #unwatch: (() => void) | undefined;
  #receiver: Receiver | undefined;

  static {
    receive = (socket, receiver) => socket.#receiver = receiver;
  }

  /**
   * Creates the client and starts connecting (in a microtask, so that listeners added right
   * after construction see the first `connecting` event).
   *
   * @param url The URL (`ws:`, `wss:`, or `http:`/`https:` mapped to them; relative URLs
   * resolve against the page in browsers), or a function called before every attempt.
   * @param protocols Subprotocols to offer, or a function called before every attempt.
   * @param options Backoff, retries, timeouts, outbox bounds, heartbeat, policy.
   * @throws {TypeError} When a fixed URL is not a WebSocket URL, or an argument has the
   * wrong type.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(
    url: UrlProvider,
    protocols?: ProtocolsProvider,
    options: ReconnectingWebSocketOptions = {},
  ) {
    super();
    if (typeof url !== "function" && typeof url !== "string" && !(url instanceof URL)) {
      throw new TypeError(`Cannot connect: expected a URL or a function, got ${typeof url}`);
    }
    const settings = clientSettings(options);
    this.#outbox = new Outbox(settings.maxQueued, settings.maxQueuedBytes);
    if (settings.heartbeat) this.#heartbeat = new Heartbeat(settings.heartbeat);
    const c = this.#c = new Connector(url, protocols, settings, this.#heartbeat, {
      dispatch: (event) => this.dispatchEvent(event),
      binaryType: () => this.#binaryType,
      flush: (ws) => {
        while (this.#outbox.size > 0 && this.#c.ws === ws && ws.readyState === 1) {
          ws.send(this.#outbox.shift() as string);
        }
      },
      received: (event) => {
        const data = event.data;
        if (this.#heartbeat?.received(data)) return;
        try {
          this.#receiver?.(data);
        } finally {
          // Built only for a client that has (or had) a listener of messages.
          if (hasListened(this, "message")) {
            this.dispatchEvent(new MessageEvent("message", { data, origin: event.origin }));
          }
        }
      },
      ended: () => {
        this.#unwatch?.();
        this.#unwatch = undefined;
        const left = this.#outbox.drain();
        if (left.length > 0) this.dispatchEvent(new DropEvent("closed", left));
      },
      restarted: () => this.#watch(),
    });
    this.#environment = options.environment;
    this.#watch();
    queueMicrotask(() => c.start());
  }

  /** Follows the browser's `online`, `offline` and `visibilitychange` while not closed. */
  #watch(): void {
    if (this.#unwatch) return;
    const c = this.#c;
    this.#unwatch = watchEnvironment(this.#environment, {
      online: () => c.hurry(),
      offline: () => {
        if (c.phase === "open" || c.phase === "connecting") c.abandon("offline");
      },
      visible: () => {
        if (c.phase === "open" && this.#heartbeat?.expired()) c.abandon("heartbeat timeout");
        c.hurry();
      },
    });
  }

  /** `CONNECTING` (also while waiting to reconnect), `OPEN`, `CLOSING` or `CLOSED`. */
  get readyState(): number {
    switch (this.#c.phase) {
      case "open":
        return 1;
      case "closing":
        return 2;
      case "closed":
        return 3;
      default:
        return 0;
    }
  }

  /**
   * The URL of the current or last attempt, as the socket reports it; before the first
   * attempt, the fixed URL (or `""` for a provider).
   */
  get url(): string {
    return this.#c.url;
  }

  /** The subprotocol the server chose on the last open, or `""`. */
  get protocol(): string {
    return this.#c.protocol;
  }

  /** The extensions the server chose on the last open, or `""`. */
  get extensions(): string {
    return this.#c.extensions;
  }

  /**
   * How binary messages arrive: `"blob"` (the default, as on `WebSocket`) or
   * `"arraybuffer"`. Kept across reconnects.
   *
   * @throws {TypeError} When set to anything else.
   */
  get binaryType(): "blob" | "arraybuffer" {
    return this.#binaryType;
  }

  set binaryType(value: "blob" | "arraybuffer") {
    if (value !== "blob" && value !== "arraybuffer") {
      throw new TypeError(
        `Cannot set binaryType: expected "blob" or "arraybuffer", got ${String(value)}`,
      );
    }
    this.#binaryType = value;
    if (this.#c.ws) this.#c.ws.binaryType = value;
  }

  /**
   * Bytes not yet on the network: the outbox (counted here, UTF-8 for text) plus what the
   * open socket reports (always 0 on Bun's client).
   */
  get bufferedAmount(): number {
    return this.#outbox.bytes + (this.#c.ws?.bufferedAmount ?? 0);
  }

  /** Called for every `open` event. */
  get onopen(): ReconnectingWebSocketHandler<Event> {
    return this.#handlers.open ?? null;
  }
  set onopen(handler: ReconnectingWebSocketHandler<Event>) {
    this.#setHandler("open", handler);
  }

  /** Called for every `message` event. */
  get onmessage(): ReconnectingWebSocketHandler<MessageEvent> {
    return (this.#handlers.message ?? null) as ReconnectingWebSocketHandler<MessageEvent>;
  }
  set onmessage(handler: ReconnectingWebSocketHandler<MessageEvent>) {
    this.#setHandler("message", handler as ReconnectingWebSocketHandler<Event>);
  }

  /** Called for every `close` event (a {@linkcode ClientCloseEvent}: it may say why). */
  get onclose(): ReconnectingWebSocketHandler<ClientCloseEvent> {
    return (this.#handlers.close ?? null) as ReconnectingWebSocketHandler<ClientCloseEvent>;
  }
  set onclose(handler: ReconnectingWebSocketHandler<ClientCloseEvent>) {
    this.#setHandler("close", handler as ReconnectingWebSocketHandler<Event>);
  }

  /** Called for every `error` event. */
  get onerror(): ReconnectingWebSocketHandler<ErrorEvent> {
    return (this.#handlers.error ?? null) as ReconnectingWebSocketHandler<ErrorEvent>;
  }
  set onerror(handler: ReconnectingWebSocketHandler<ErrorEvent>) {
    this.#setHandler("error", handler as ReconnectingWebSocketHandler<Event>);
  }

  /**
   * Sends a message when open; otherwise queues it in the outbox, which goes out in order,
   * once, right after the next `open` event (so that messages sent from an `open` listener,
   * such as authentication, go first). A message that does not fit the outbox bounds is
   * refused: the return value says `"dropped"` and a `drop` event carries it.
   *
   * Sent means handed to the socket: on a link that died silently, messages sent before
   * the heartbeat notices are lost, as with any WebSocket.
   *
   * @param data Text, bytes or a `Blob`; bytes are copied when queued.
   * @returns `"sent"`, `"queued"` or `"dropped"`.
   * @throws {TypeError} When `data` is neither text, bytes nor a `Blob`.
   */
  send(data: OutgoingData): ClientSendStatus {
    const c = this.#c;
    // A ping unanswered past its timeout by the clock: the timer is late (a throttled tab),
    // the link is dead all the same, and the message belongs in the outbox.
    if (c.phase === "open" && this.#heartbeat?.expired()) c.abandon("heartbeat timeout");
    if (c.phase === "closing" || c.phase === "closed") {
      byteSize(data); // what WebSocket.send would not take throws here too
      this.dispatchEvent(new DropEvent("closed", [data]));
      return "dropped";
    }
    const ws = c.ws;
    if (c.phase === "open" && ws?.readyState === 1) {
      // Text needs no check, nor its size: nothing is queued.
      if (typeof data !== "string") byteSize(data);
      ws.send(data as string);
      return "sent";
    }
    if (!this.#outbox.push(data)) {
      this.dispatchEvent(new DropEvent("overflow", [data]));
      return "dropped";
    }
    return "queued";
  }

  /**
   * Closes for good: no reconnect follows. When open, the closing handshake runs and the
   * `close` event carries what the server answered; otherwise the attempt or pending
   * reconnect is abandoned and a `close` event with `code` (1005 without one, 1000 with
   * only a reason) and `wasClean: false` is dispatched at once. Queued messages are reported
   * in a `drop` event.
   *
   * @param code 1000 or 3000-4999.
   * @param reason At most 123 bytes of UTF-8.
   * @throws {RangeError} When the code or reason cannot go into a close frame.
   */
  close(code?: number, reason?: string): void {
    checkClientClose(code, reason);
    this.#c.close(code, reason);
  }

  /**
   * Drops the current connection or attempt (a 1006 close with `reason`; the client does not
   * wait for the closing handshake) and reconnects after the usual backoff, whatever
   * `shouldReconnect` would say; a pending reconnect happens at once. On a client that is
   * closed for good (after `close()` or `giveup`) or closing, it starts again: `readyState`
   * back to `CONNECTING`, the first attempt at once, retries counted from 0.
   *
   * @example Start again after giving up, once the cause is fixed
   * ```ts
   * import { ReconnectingWebSocket } from "@wskit/wskit/client";
   *
   * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/");
   * ws.addEventListener("giveup", async (e) => {
   *   console.warn(e.message);
   *   await signInAgain();
   *   ws.reconnect();
   * });
   *
   * declare function signInAgain(): Promise<void>;
   * ```
   *
   * @param reason The reason the `close` event carries.
   */
  reconnect(reason?: string): void;
  /**
   * As `reconnect(reason)`, with `code` and `reason` in the close frame sent to the server
   * and in the `close` event (as partysocket's `reconnect(code, reason)` does).
   *
   * @param code 1000 or 3000-4999.
   * @param reason At most 123 bytes of UTF-8.
   * @throws {RangeError} When the code or reason cannot go into a close frame.
   */
  reconnect(code: number, reason?: string): void;
  reconnect(codeOrReason?: number | string, reason?: string): void {
    if (typeof codeOrReason === "number") {
      checkClientClose(codeOrReason, reason);
      this.#c.reconnect(codeOrReason, reason ?? "");
    } else {
      this.#c.reconnect(undefined, codeOrReason ?? "reconnect requested");
    }
  }

  /**
   * Iterates over incoming messages (`MessageEvent.data`) until the client is closed for
   * good. Each iterator sees the messages that arrive once iteration has started.
   *
   * @example Read until closed
   * ```ts
   * import { ReconnectingWebSocket } from "@wskit/wskit/client";
   *
   * for await (const message of new ReconnectingWebSocket("ws://127.0.0.1:8000/")) {
   *   console.log(message);
   * }
   * ```
   *
   * @returns An async iterator of message data.
   */
  [Symbol.asyncIterator](): AsyncGenerator<IncomingData, void, undefined> {
    return messages(this, () => this.#c.phase === "closed");
  }

  #setHandler(type: HandlerType, handler: ReconnectingWebSocketHandler<Event>): void {
    if (!(type in this.#handlers)) {
      this.addEventListener(type, (event: Event) => this.#handlers[type]?.call(this, event));
    }
    this.#handlers[type] = typeof handler === "function" ? handler : null;
  }
}
