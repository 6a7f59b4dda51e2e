/**
 * `ReconnectingWebSocket`: a drop-in `WebSocket` that reconnects by itself, on Web standards
 * only, so the same file runs in Deno, Bun and browsers. It imports nothing from the server
 * side of wskit: a bundler that takes `@wskit/wskit/client` pulls in the client alone.
 *
 * - backoff: exponential with full jitter on every attempt, reset only after a connection
 *   has stayed up for `minUptime`;
 * - a fresh URL and subprotocols per attempt from (async) providers;
 * - a bounded outbox for messages sent while down, flushed in order after the reconnect;
 * - an optional application-level heartbeat that detects half-open links;
 * - a close-code policy that tells "come back" from "do not come back";
 * - typed state events and `for await` over messages.
 *
 * @example Reconnect to a chat, with a heartbeat the wskit server answers on its own
 * ```ts ignore
 * import { ReconnectingWebSocket } from "jsr:@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket("ws://127.0.0.1:8000/", undefined, { heartbeat: true });
 * ws.addEventListener("reconnect", (e) => console.log(`retry #${e.attempt} in ${e.delay} ms`));
 * ws.send("hello"); // queued until the connection opens
 * for await (const message of ws) console.log(message);
 * ```
 *
 * @module
 */

import { socketUrl, watchEnvironment } from "./_client_env.ts";
import { utf8Length } from "./_utf8.ts";
import {
  ConnectingEvent,
  DropEvent,
  GiveUpEvent,
  ReconnectEvent,
  type ReconnectingWebSocketEventMap,
  type ReconnectingWebSocketHandler,
  type ReconnectingWebSocketListener,
} from "./client_events.ts";
import {
  backoffDelay,
  type BackoffOptions,
  backoffSettings,
  type ClientHeartbeatOptions,
  type ClientSendStatus,
  DEFAULTS,
  defaultShouldReconnect,
  HEARTBEAT,
  type IncomingData,
  nonNegative,
  type OutgoingData,
  positive,
  type ProtocolsProvider,
  type ReconnectingWebSocketOptions,
  type UrlProvider,
} from "./client_options.ts";

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

type HandlerType = "open" | "message" | "close" | "error";

const encoder = new TextEncoder();

/**
 * A `WebSocket` that reconnects: the same constructor, properties, methods and events, plus
 * backoff with jitter, URL and subprotocol providers, an outbox for messages sent while down,
 * a heartbeat, a close-code policy, typed state events and `for await` over messages.
 *
 * Every attempt dispatches `connecting`, then exactly one `close` (after an `open` or not),
 * then either `reconnect` (a retry is scheduled) or, when the client stops on its own,
 * `giveup`. In a `close` listener, `readyState` is already `CONNECTING` when a reconnect
 * follows and `CLOSED` when this close was the last. Messages queued when the client stops
 * for good are reported in a `drop` event.
 *
 * @example Drop-in, with the outbox and state events
 * ```ts ignore
 * import { ReconnectingWebSocket } from "jsr:@wskit/wskit/client";
 *
 * const ws = new ReconnectingWebSocket(async () => `wss://example.com/live?token=${await token()}`);
 * ws.binaryType = "arraybuffer"; // kept across reconnects
 * ws.onmessage = (e) => console.log(e.data);
 * ws.addEventListener("close", (e) => console.log(`closed ${e.code} ${e.reason}`));
 * ws.addEventListener("reconnect", (e) => console.log(`retry #${e.attempt} in ${e.delay} ms`));
 * ws.addEventListener("giveup", (e) => console.log(`gave up: ${e.reason}`));
 * ws.addEventListener("drop", (e) => console.warn(`dropped ${e.messages.length}: ${e.reason}`));
 * if (ws.send("hello") === "dropped") console.warn("the outbox is full");
 * ws.close(); // for good
 *
 * declare function token(): Promise<string>;
 * ```
 */
export class ReconnectingWebSocket extends EventTarget {
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

  #urlProvider: UrlProvider;
  #protocolsProvider: ProtocolsProvider | undefined;
  #backoff: Required<BackoffOptions>;
  #maxRetries: number;
  #connectTimeout: number;
  #minUptime: number;
  #maxQueuedMessages: number;
  #maxQueuedBytes: number;
  #heartbeat: Required<ClientHeartbeatOptions> | undefined;
  #shouldReconnect: (event: CloseEvent) => boolean;

  #phase: "connecting" | "open" | "waiting" | "closing" | "closed" = "connecting";
  #ws: WebSocket | undefined;
  #generation = 0;
  #attempt = 0;
  #openedAt: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #beat: ReturnType<typeof setTimeout> | undefined;
  #lastSeen = 0;
  #pingSentAt: number | undefined;
  #outbox: { data: OutgoingData; size: number }[] = [];
  #queuedBytes = 0;
  #binaryType: "blob" | "arraybuffer" = "blob";
  #url: string;
  #protocol = "";
  #extensions = "";
  #handlers: Partial<Record<HandlerType, ReconnectingWebSocketHandler<Event>>> = {};
  #unwatch: (() => void) | undefined;

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
    if (typeof url === "function") this.#url = "";
    else if (typeof url === "string" || url instanceof URL) this.#url = socketUrl(url);
    else throw new TypeError(`Cannot connect: expected a URL or a function, got ${typeof url}`);
    this.#urlProvider = url;
    this.#protocolsProvider = protocols;
    this.#backoff = backoffSettings(options);
    this.#maxRetries = nonNegative("maxRetries", options.maxRetries ?? DEFAULTS.maxRetries, true);
    this.#connectTimeout = positive(
      "connectTimeout",
      options.connectTimeout ?? DEFAULTS.connectTimeout,
    );
    this.#minUptime = nonNegative("minUptime", options.minUptime ?? DEFAULTS.minUptime);
    this.#maxQueuedMessages = nonNegative(
      "maxQueuedMessages",
      options.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages,
      true,
    );
    this.#maxQueuedBytes = nonNegative(
      "maxQueuedBytes",
      options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      true,
    );
    const beat = options.heartbeat;
    if (beat) {
      const b = { ...HEARTBEAT, ...(beat === true ? {} : beat) };
      positive("heartbeat.interval", b.interval);
      positive("heartbeat.timeout", b.timeout);
      if (typeof b.ping !== "string" || typeof b.pong !== "string") {
        throw new TypeError("Cannot configure the heartbeat: ping and pong must be strings");
      }
      this.#heartbeat = b;
    }
    this.#shouldReconnect = options.shouldReconnect ?? defaultShouldReconnect;
    this.#unwatch = watchEnvironment(options.environment, {
      online: () => this.#hurry(),
      offline: () => {
        if (this.#phase === "open" || this.#phase === "connecting") this.#abandon("offline");
      },
      visible: () => {
        if (this.#phase === "open" && this.#expired()) this.#abandon("heartbeat timeout");
        this.#hurry();
      },
    });
    queueMicrotask(() => {
      if (this.#phase === "connecting") this.#connect();
    });
  }

  /** `CONNECTING` (also while waiting to reconnect), `OPEN`, `CLOSING` or `CLOSED`. */
  get readyState(): number {
    switch (this.#phase) {
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
    return this.#url;
  }

  /** The subprotocol the server chose on the last open, or `""`. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions the server chose on the last open, or `""`. */
  get extensions(): string {
    return this.#extensions;
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
    if (this.#ws) this.#ws.binaryType = value;
  }

  /**
   * Bytes not yet on the network: the outbox (counted here, UTF-8 for text) plus what the
   * open socket reports (always 0 on Bun's client).
   */
  get bufferedAmount(): number {
    return this.#queuedBytes + (this.#ws?.bufferedAmount ?? 0);
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

  /** Called for every `close` event. */
  get onclose(): ReconnectingWebSocketHandler<CloseEvent> {
    return (this.#handlers.close ?? null) as ReconnectingWebSocketHandler<CloseEvent>;
  }
  set onclose(handler: ReconnectingWebSocketHandler<CloseEvent>) {
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
    const size = byteSize(data);
    // A ping unanswered past its timeout by the clock: the timer is late (a throttled tab),
    // the link is dead all the same, and the message belongs in the outbox.
    if (this.#phase === "open" && this.#expired()) this.#abandon("heartbeat timeout");
    if (this.#phase === "closing" || this.#phase === "closed") {
      this.dispatchEvent(new DropEvent("closed", [data]));
      return "dropped";
    }
    const ws = this.#ws;
    if (this.#phase === "open" && ws?.readyState === 1) {
      ws.send(data as string);
      return "sent";
    }
    if (
      this.#outbox.length + 1 > this.#maxQueuedMessages ||
      this.#queuedBytes + size > this.#maxQueuedBytes
    ) {
      this.dispatchEvent(new DropEvent("overflow", [data]));
      return "dropped";
    }
    this.#outbox.push({ data: snapshot(data), size });
    this.#queuedBytes += size;
    return "queued";
  }

  /**
   * Closes for good: no reconnect follows. When open, the closing handshake runs and the
   * `close` event carries what the server answered; otherwise the attempt or pending
   * reconnect is abandoned and a `close` event with `code` (1005 without one, 1000 with
   * only a reason) and `wasClean: false` is dispatched at once. Queued messages are reported in a `drop` event.
   *
   * @param code 1000 or 3000-4999.
   * @param reason At most 123 bytes of UTF-8.
   * @throws {RangeError} When the code or reason cannot go into a close frame.
   */
  close(code?: number, reason?: string): void {
    if (
      code !== undefined &&
      !(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))
    ) {
      throw new RangeError(`Cannot close: code ${code} is not 1000 or 3000-4999`);
    }
    if (reason !== undefined && encoder.encode(reason).length > 123) {
      throw new RangeError("Cannot close: the reason is longer than 123 bytes of UTF-8");
    }
    if (this.#phase === "closing" || this.#phase === "closed") return;
    // As on WebSocket: a reason without a code goes out with 1000.
    const frameCode = code ?? (reason === undefined ? undefined : 1000);
    clearTimeout(this.#timer);
    this.#stopHeartbeat();
    const ws = this.#ws;
    if (this.#phase === "open" && ws) {
      this.#phase = "closing";
      ws.close(frameCode, reason);
      this.#timer = setTimeout(() => this.#abandon("close timeout"), this.#connectTimeout);
      return;
    }
    this.#drop(ws);
    this.#finish(
      new CloseEvent("close", { code: frameCode ?? 1005, reason: reason ?? "", wasClean: false }),
    );
  }

  /**
   * Drops the current connection or attempt (a 1006 close with `reason`, no close handshake)
   * and reconnects after the usual backoff; a pending reconnect happens at once. Does
   * nothing once the client is closed for good.
   *
   * @param reason The reason the `close` event carries.
   */
  reconnect(reason = "reconnect requested"): void {
    if (this.#phase === "open" || this.#phase === "connecting") this.#abandon(reason);
    else if (this.#phase === "waiting") this.#hurry();
  }

  /**
   * Iterates over incoming messages (`MessageEvent.data`) until the client is closed for
   * good. Each iterator sees the messages that arrive once iteration has started.
   *
   * @example Read until closed
   * ```ts ignore
   * import { ReconnectingWebSocket } from "jsr:@wskit/wskit/client";
   *
   * for await (const message of new ReconnectingWebSocket("ws://127.0.0.1:8000/")) {
   *   console.log(message);
   * }
   * ```
   *
   * @returns An async iterator of message data.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<IncomingData, void, undefined> {
    const queue: IncomingData[] = [];
    let ended = this.#phase === "closed";
    let wake: (() => void) | undefined;
    const onMessage = (e: Event) => {
      queue.push((e as MessageEvent).data);
      wake?.();
    };
    const onClose = () => {
      if (this.#phase !== "closed") return;
      ended = true;
      wake?.();
    };
    this.addEventListener("message", onMessage);
    this.addEventListener("close", onClose);
    try {
      while (true) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
    } finally {
      this.removeEventListener("message", onMessage);
      this.removeEventListener("close", onClose);
    }
  }

  /**
   * Adds a listener; typed for the events of {@linkcode ReconnectingWebSocketEventMap}.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.addEventListener`.
   */
  override addEventListener<K extends keyof ReconnectingWebSocketEventMap>(
    type: K,
    listener: ReconnectingWebSocketListener<ReconnectingWebSocketEventMap[K]> | null,
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

  /**
   * Removes a listener; typed for the events of {@linkcode ReconnectingWebSocketEventMap}.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.removeEventListener`.
   */
  override removeEventListener<K extends keyof ReconnectingWebSocketEventMap>(
    type: K,
    listener: ReconnectingWebSocketListener<ReconnectingWebSocketEventMap[K]> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a listener for any event type.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.removeEventListener`.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  /** A pending reconnect happens now. */
  #hurry(): void {
    if (this.#phase !== "waiting") return;
    clearTimeout(this.#timer);
    this.#phase = "connecting";
    this.#connect();
  }

  #setHandler(type: HandlerType, handler: ReconnectingWebSocketHandler<Event>): void {
    if (!(type in this.#handlers)) {
      this.addEventListener(type, (event: Event) => this.#handlers[type]?.call(this, event));
    }
    this.#handlers[type] = typeof handler === "function" ? handler : null;
  }

  /** Starts one attempt: providers, then the socket, all under the connect timeout. */
  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && this.#phase === "connecting";
    this.dispatchEvent(new ConnectingEvent(this.#attempt));
    if (!current()) return;
    this.#timer = setTimeout(() => {
      if (current()) {
        this.#abandon(
          "connect timeout",
          new Error(`Cannot connect: no answer within ${this.#connectTimeout} ms`),
        );
      }
    }, this.#connectTimeout);
    let ws: WebSocket;
    try {
      const p = this.#urlProvider;
      const url = socketUrl(typeof p === "function" ? await p() : p);
      const q = this.#protocolsProvider;
      const protocols = typeof q === "function" ? await q() : q;
      if (!current()) return;
      ws = protocols === undefined || protocols.length === 0
        ? new WebSocket(url)
        : new WebSocket(url, protocols as string | string[]);
    } catch (error) {
      if (current()) this.#abandon(`connect failed: ${message(error)}`, error);
      return;
    }
    ws.binaryType = this.#binaryType;
    this.#ws = ws;
    this.#url = ws.url;
    ws.addEventListener("open", () => {
      if (this.#ws === ws) this.#opened(ws);
    });
    ws.addEventListener("message", (e) => {
      if (this.#ws === ws) this.#received(ws, e as MessageEvent);
    });
    ws.addEventListener("error", (e) => {
      if (this.#ws !== ws) return;
      const error = (e as ErrorEvent).error;
      const text = (e as ErrorEvent).message || "WebSocket error";
      this.dispatchEvent(new ErrorEvent("error", { message: text, error }));
    });
    ws.addEventListener("close", (e) => {
      if (this.#ws !== ws) return;
      const { code, reason, wasClean } = e as CloseEvent;
      // Deno reports 0 for a connection that ended without a close frame; the standard is 1006.
      this.#ended(code === 0 ? 1006 : code, reason, wasClean);
    });
  }

  #opened(ws: WebSocket): void {
    clearTimeout(this.#timer);
    this.#phase = "open";
    this.#openedAt = Date.now();
    this.#protocol = ws.protocol;
    this.#extensions = ws.extensions;
    this.#startHeartbeat(ws);
    this.dispatchEvent(new Event("open"));
    // Messages sent from the open listeners went out first; then the outbox, in order.
    while (this.#outbox.length > 0 && this.#ws === ws && ws.readyState === 1) {
      const { data, size } = this.#outbox.shift()!;
      this.#queuedBytes -= size;
      ws.send(data as string);
    }
  }

  #received(ws: WebSocket, event: MessageEvent): void {
    const beat = this.#heartbeat;
    if (beat) {
      this.#lastSeen = Date.now();
      if (this.#pingSentAt !== undefined) {
        this.#pingSentAt = undefined;
        this.#armHeartbeat(ws, beat.interval);
      }
      if (event.data === beat.pong) return;
    }
    this.dispatchEvent(new MessageEvent("message", { data: event.data, origin: event.origin }));
  }

  /** Gives up on the current socket or attempt without waiting for it: a 1006 close. */
  #abandon(reason: string, error?: unknown): void {
    this.#drop(this.#ws);
    if (error !== undefined) {
      this.dispatchEvent(new ErrorEvent("error", { message: message(error), error }));
    }
    this.#ended(1006, reason, false);
  }

  /** Detaches a socket so that its late events are ignored, and closes it. */
  #drop(ws: WebSocket | undefined): void {
    if (!ws) return;
    if (this.#ws === ws) this.#ws = undefined;
    try {
      ws.close();
    } catch { /* already closing */ }
  }

  /** One socket or attempt is over: decide whether to reconnect, then tell the listeners. */
  #ended(code: number, reason: string, wasClean: boolean): void {
    if (this.#phase === "closed") return;
    this.#ws = undefined;
    clearTimeout(this.#timer);
    this.#stopHeartbeat();
    const event = new CloseEvent("close", { code, reason, wasClean });
    if (this.#phase === "closing") return this.#finish(event);
    const openedAt = this.#openedAt;
    this.#openedAt = undefined;
    if (openedAt !== undefined && Date.now() - openedAt >= this.#minUptime) this.#attempt = 0;
    const next = this.#attempt + 1;
    if (!this.#policy(event)) {
      return this.#finish(event, new GiveUpEvent("policy", next - 1, event));
    }
    if (next > this.#maxRetries) {
      return this.#finish(event, new GiveUpEvent("max-retries", next - 1, event));
    }
    this.#attempt = next;
    const delay = backoffDelay(next, this.#backoff);
    this.#phase = "waiting";
    this.#timer = setTimeout(() => this.#hurry(), delay);
    this.dispatchEvent(event);
    if (this.#phase === "waiting" && this.#attempt === next) {
      this.dispatchEvent(new ReconnectEvent(next, delay));
    }
  }

  #policy(event: CloseEvent): boolean {
    try {
      return Boolean(this.#shouldReconnect(event));
    } catch (error) {
      this.dispatchEvent(
        new ErrorEvent("error", { message: `shouldReconnect failed: ${message(error)}`, error }),
      );
      return defaultShouldReconnect(event);
    }
  }

  /** Closed for good: the last close, then giving up, then what the outbox still held. */
  #finish(event: CloseEvent, giveUp?: GiveUpEvent): void {
    this.#phase = "closed";
    clearTimeout(this.#timer);
    this.#unwatch?.();
    this.#unwatch = undefined;
    const left = this.#outbox.map((m) => m.data);
    this.#outbox = [];
    this.#queuedBytes = 0;
    this.dispatchEvent(event);
    if (giveUp) this.dispatchEvent(giveUp);
    if (left.length > 0) this.dispatchEvent(new DropEvent("closed", left));
  }

  #startHeartbeat(ws: WebSocket): void {
    if (!this.#heartbeat) return;
    this.#lastSeen = Date.now();
    this.#pingSentAt = undefined;
    this.#armHeartbeat(ws, this.#heartbeat.interval);
  }

  #armHeartbeat(ws: WebSocket, ms: number): void {
    clearTimeout(this.#beat);
    this.#beat = setTimeout(() => this.#tick(ws), ms);
  }

  /** Pings after `interval` of silence; drops the link when the ping meets silence too. */
  #tick(ws: WebSocket): void {
    const beat = this.#heartbeat!;
    if (this.#ws !== ws || this.#phase !== "open") return;
    // Anything that arrived after the ping cleared it (see #received).
    if (this.#pingSentAt !== undefined) return this.#abandon("heartbeat timeout");
    const idle = Date.now() - this.#lastSeen;
    if (idle < beat.interval) return this.#armHeartbeat(ws, beat.interval - idle);
    this.#pingSentAt = Date.now();
    ws.send(beat.ping);
    this.#armHeartbeat(ws, beat.timeout);
  }

  #stopHeartbeat(): void {
    clearTimeout(this.#beat);
    this.#beat = undefined;
    this.#pingSentAt = undefined;
  }

  /** Whether a ping has gone unanswered past its timeout, by the clock (timers may lag). */
  #expired(): boolean {
    const sent = this.#pingSentAt;
    return sent !== undefined && Date.now() - sent > this.#heartbeat!.timeout;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The size a message takes in the outbox: UTF-8 bytes for text.
 *
 * @throws {TypeError} For anything `WebSocket.send` would not take.
 */
function byteSize(data: OutgoingData): number {
  if (typeof data === "string") return utf8Length(data);
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (typeof SharedArrayBuffer !== "undefined" && data instanceof SharedArrayBuffer) {
    return data.byteLength;
  }
  if (typeof Blob !== "undefined" && data instanceof Blob) return data.size;
  const kind = data === null
    ? "null"
    : typeof data === "object"
    ? (data as object).constructor?.name ?? "object"
    : typeof data;
  throw new TypeError(`Cannot send: expected a string, bytes or a Blob, got ${kind}`);
}

/** A copy of mutable bytes, so that what goes out later is what was sent now. */
function snapshot(data: OutgoingData): OutgoingData {
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  if (typeof data === "string" || (typeof Blob !== "undefined" && data instanceof Blob)) {
    return data;
  }
  return (data as ArrayBuffer).slice(0);
}
