/**
 * The reconnecting client's lifecycle: one attempt after another (providers, socket, connect
 * timeout), the backoff between them, the close-code policy, and the end for good. It keeps
 * the phase and the current socket; the client around it keeps the public surface, the
 * outbox and the listeners. Internal.
 *
 * @module
 */

import { socketUrl } from "./_env.ts";
import type { Heartbeat } from "./_heartbeat.ts";
import { ConnectingEvent, GiveUpEvent, ReconnectEvent } from "./events.ts";
import {
  backoffDelay,
  type ClientSettings,
  defaultShouldReconnect,
  type ProtocolsProvider,
  type UrlProvider,
} from "./options.ts";

/** Where the client is: `waiting` is between a close and the next attempt. */
export type Phase = "connecting" | "open" | "waiting" | "closing" | "closed";

/** What the lifecycle needs from the client around it. */
export interface ConnectorHost {
  /** Dispatches one of the client's events. */
  dispatch(event: Event): void;
  /** How binary messages should arrive on a new socket. */
  binaryType(): "blob" | "arraybuffer";
  /** A socket opened, after the `open` event: send what waited. */
  flush(ws: WebSocket): void;
  /** A message arrived on the current socket. */
  received(event: MessageEvent): void;
  /** Closed for good: the outbox's contents, to report as dropped. */
  ended(): void;
}

/** One client's attempts, backoff and end. */
export class Connector {
  phase: Phase = "connecting";
  ws: WebSocket | undefined;
  url: string;
  protocol = "";
  extensions = "";
  #urlProvider: UrlProvider;
  #protocolsProvider: ProtocolsProvider | undefined;
  #settings: ClientSettings;
  #heartbeat: Heartbeat | undefined;
  #host: ConnectorHost;
  #generation = 0;
  #attempt = 0;
  #openedAt: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    url: UrlProvider,
    protocols: ProtocolsProvider | undefined,
    settings: ClientSettings,
    heartbeat: Heartbeat | undefined,
    host: ConnectorHost,
  ) {
    this.url = typeof url === "function" ? "" : socketUrl(url);
    this.#urlProvider = url;
    this.#protocolsProvider = protocols;
    this.#settings = settings;
    this.#heartbeat = heartbeat;
    this.#host = host;
  }

  /** Starts the first attempt. */
  start(): void {
    if (this.phase === "connecting") this.#connect();
  }

  /** A pending reconnect happens now. */
  hurry(): void {
    if (this.phase !== "waiting") return;
    clearTimeout(this.#timer);
    this.phase = "connecting";
    this.#connect();
  }

  /** Drops the current socket or attempt and reconnects, or hurries a pending reconnect. */
  reconnect(reason: string): void {
    if (this.phase === "open" || this.phase === "connecting") this.abandon(reason);
    else if (this.phase === "waiting") this.hurry();
  }

  /** Closes for good (arguments checked already); see `ReconnectingWebSocket.close`. */
  close(code: number | undefined, reason: string | undefined): void {
    if (this.phase === "closing" || this.phase === "closed") return;
    // As on WebSocket: a reason without a code goes out with 1000.
    const frameCode = code ?? (reason === undefined ? undefined : 1000);
    clearTimeout(this.#timer);
    this.#heartbeat?.stop();
    const ws = this.ws;
    if (this.phase === "open" && ws) {
      this.phase = "closing";
      ws.close(frameCode, reason);
      this.#timer = setTimeout(() => this.abandon("close timeout"), this.#settings.connectTimeout);
      return;
    }
    this.#drop(ws);
    this.#finish(
      new CloseEvent("close", { code: frameCode ?? 1005, reason: reason ?? "", wasClean: false }),
    );
  }

  /** Gives up on the current socket or attempt without waiting for it: a 1006 close. */
  abandon(reason: string, error?: unknown): void {
    this.#drop(this.ws);
    if (error !== undefined) {
      this.#host.dispatch(new ErrorEvent("error", { message: message(error), error }));
    }
    this.#ended(1006, reason, false);
  }

  /** Starts one attempt: providers, then the socket, all under the connect timeout. */
  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && this.phase === "connecting";
    this.#host.dispatch(new ConnectingEvent(this.#attempt));
    if (!current()) return;
    const timeout = this.#settings.connectTimeout;
    this.#timer = setTimeout(() => {
      if (current()) {
        this.abandon(
          "connect timeout",
          new Error(`Cannot connect: no answer within ${timeout} ms`),
        );
      }
    }, timeout);
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
      if (current()) this.abandon(`connect failed: ${message(error)}`, error);
      return;
    }
    this.#attach(ws);
  }

  #attach(ws: WebSocket): void {
    ws.binaryType = this.#host.binaryType();
    this.ws = ws;
    this.url = ws.url;
    ws.addEventListener("open", () => {
      if (this.ws === ws) this.#opened(ws);
    });
    ws.addEventListener("message", (e) => {
      if (this.ws === ws) this.#host.received(e as MessageEvent);
    });
    ws.addEventListener("error", (e) => {
      if (this.ws !== ws) return;
      const error = (e as ErrorEvent).error;
      const text = (e as ErrorEvent).message || "WebSocket error";
      this.#host.dispatch(new ErrorEvent("error", { message: text, error }));
    });
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      const { code, reason, wasClean } = e as CloseEvent;
      // Deno reports 0 for a connection that ended without a close frame; the standard is 1006.
      this.#ended(code === 0 ? 1006 : code, reason, wasClean);
    });
  }

  #opened(ws: WebSocket): void {
    clearTimeout(this.#timer);
    this.phase = "open";
    this.#openedAt = Date.now();
    this.protocol = ws.protocol;
    this.extensions = ws.extensions;
    this.#heartbeat?.start(
      () => ws.send(this.#heartbeat!.settings.ping),
      () => {
        if (this.ws === ws && this.phase === "open") this.abandon("heartbeat timeout");
      },
    );
    this.#host.dispatch(new Event("open"));
    // Messages sent from the open listeners went out first; then the outbox, in order.
    if (this.ws === ws) this.#host.flush(ws);
  }

  /** Detaches a socket so that its late events are ignored, and closes it. */
  #drop(ws: WebSocket | undefined): void {
    if (!ws) return;
    if (this.ws === ws) this.ws = undefined;
    try {
      ws.close();
    } catch { /* already closing */ }
  }

  /** One socket or attempt is over: decide whether to reconnect, then tell the listeners. */
  #ended(code: number, reason: string, wasClean: boolean): void {
    if (this.phase === "closed") return;
    this.ws = undefined;
    clearTimeout(this.#timer);
    this.#heartbeat?.stop();
    const event = new CloseEvent("close", { code, reason, wasClean });
    if (this.phase === "closing") return this.#finish(event);
    const openedAt = this.#openedAt;
    this.#openedAt = undefined;
    if (openedAt !== undefined && Date.now() - openedAt >= this.#settings.minUptime) {
      this.#attempt = 0;
    }
    const next = this.#attempt + 1;
    if (!this.#policy(event)) {
      return this.#finish(event, new GiveUpEvent("policy", next - 1, event));
    }
    if (next > this.#settings.maxRetries) {
      return this.#finish(event, new GiveUpEvent("max-retries", next - 1, event));
    }
    this.#attempt = next;
    const delay = backoffDelay(next, this.#settings.backoff);
    this.phase = "waiting";
    this.#timer = setTimeout(() => this.hurry(), delay);
    this.#host.dispatch(event);
    if (this.phase === "waiting" && this.#attempt === next) {
      this.#host.dispatch(new ReconnectEvent(next, delay));
    }
  }

  #policy(event: CloseEvent): boolean {
    try {
      return Boolean(this.#settings.shouldReconnect(event));
    } catch (error) {
      this.#host.dispatch(
        new ErrorEvent("error", { message: `shouldReconnect failed: ${message(error)}`, error }),
      );
      return defaultShouldReconnect(event);
    }
  }

  /** Closed for good: the last close, then giving up, then what the outbox still held. */
  #finish(event: CloseEvent, giveUp?: GiveUpEvent): void {
    this.phase = "closed";
    clearTimeout(this.#timer);
    this.#host.dispatch(event);
    if (giveUp) this.#host.dispatch(giveUp);
    this.#host.ended();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
