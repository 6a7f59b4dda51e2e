/**
 * The reconnecting client's lifecycle: one attempt after another (providers, socket, connect
 * timeout), the backoff between them, the close-code policy, and the end for good. It keeps
 * the phase and the current socket; the client around it keeps the public surface, the
 * outbox and the listeners. Internal.
 *
 * @module
 */

import { socketUrl } from "./_env.ts";
import { closeReason, providerFailure, socketFailure, timedOut, unusable } from "./_failure.ts";
import type { Heartbeat } from "./_heartbeat.ts";
import { ClientCloseEvent, type ConnectError } from "./errors.ts";
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
  /** `reconnect()` started a closed client again. */
  restarted(): void;
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
  /** Counts the starts, so that a listener of the last close that starts again is noticed. */
  #runs = 0;
  #attempt = 0;
  /** Why the current attempt failed, from the socket's `error` event before it opened. */
  #failure: ConnectError | undefined;
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

  /** Starts the first attempt, unless `close()` or `reconnect()` came first. */
  start(): void {
    if (this.phase === "connecting" && this.#generation === 0) this.#connect();
  }

  /** A pending reconnect happens now. */
  hurry(): void {
    if (this.phase !== "waiting") return;
    clearTimeout(this.#timer);
    this.phase = "connecting";
    this.#connect();
  }

  /**
   * Drops the current socket or attempt (with `code` in its close frame, if given) and
   * reconnects after the backoff, whatever the policy says; hurries a pending reconnect;
   * starts a closed client again, at once and with the attempts counted from 0.
   */
  reconnect(code: number | undefined, reason: string): void {
    switch (this.phase) {
      case "open":
      case "connecting":
        this.#drop(this.ws, code, reason);
        return this.#ended(code ?? 1006, reason, false, undefined, true);
      case "waiting":
        return this.hurry();
      case "closing":
        // The closing handshake is abandoned: its close is the last one of this run.
        this.#drop(this.ws);
        this.#ended(1006, reason, false);
        return this.#restart();
      case "closed":
        return this.#restart();
    }
  }

  #restart(): void {
    if (this.phase !== "closed") return;
    this.#runs++;
    this.#attempt = 0;
    this.#openedAt = undefined;
    this.phase = "connecting";
    this.#host.restarted();
    this.#connect();
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
      new ClientCloseEvent({ code: frameCode ?? 1005, reason: reason ?? "", wasClean: false }),
    );
  }

  /** Gives up on the current socket or attempt without waiting for it: a 1006 close. */
  abandon(reason: string, error?: ConnectError): void {
    this.#drop(this.ws);
    if (error !== undefined) {
      this.#host.dispatch(new ErrorEvent("error", { message: error.message, error }));
    }
    this.#ended(1006, reason, false, error);
  }

  /** Starts one attempt: providers, then the socket, all under the connect timeout. */
  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && this.phase === "connecting";
    this.#host.dispatch(new ConnectingEvent(this.#attempt));
    if (!current()) return;
    const timeout = this.#settings.connectTimeout;
    this.#timer = setTimeout(() => {
      if (current()) this.abandon("connect timeout", timedOut(timeout));
    }, timeout);
    let given: string | URL;
    let protocols: string | readonly string[] | undefined;
    try {
      const p = this.#urlProvider;
      given = typeof p === "function" ? await p() : p;
      const q = this.#protocolsProvider;
      protocols = typeof q === "function" ? await q() : q;
    } catch (error) {
      const failure = providerFailure(error);
      if (current()) this.abandon(closeReason(failure), failure);
      return;
    }
    if (!current()) return;
    let ws: WebSocket;
    try {
      // What the runtime refuses here (a wrong scheme, duplicate subprotocols) would be
      // refused the same way on every later attempt.
      const url = socketUrl(given);
      ws = protocols === undefined || protocols.length === 0
        ? new WebSocket(url)
        : new WebSocket(url, protocols as string | string[]);
    } catch (error) {
      const failure = unusable(error);
      this.abandon(closeReason(failure), failure);
      return;
    }
    this.#attach(ws, typeof protocols === "string" ? [protocols] : protocols ?? []);
  }

  #attach(ws: WebSocket, offered: readonly string[]): void {
    this.#failure = undefined;
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
      const { error, message } = e as Partial<ErrorEvent>;
      if (this.phase === "connecting") {
        // Before the open, the runtime's text is all there is to tell why (see _failure.ts).
        const failure = this.#failure = socketFailure(message ?? "", offered, error);
        this.#host.dispatch(new ErrorEvent("error", { message: failure.message, error: failure }));
        return;
      }
      this.#host.dispatch(
        new ErrorEvent("error", { message: message || "WebSocket error", error }),
      );
    });
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      const { code, reason, wasClean } = e as CloseEvent;
      const failure = this.phase === "connecting"
        ? this.#failure ?? socketFailure("", offered, undefined)
        : undefined;
      // Deno reports 0 for a connection that ended without a close frame; the standard is 1006.
      // A failed handshake carries no reason of its own: the failure's goes in its place.
      const why = reason || (failure ? closeReason(failure) : "");
      this.#ended(code === 0 ? 1006 : code, why, wasClean, failure);
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
  #drop(ws: WebSocket | undefined, code?: number, reason?: string): void {
    if (!ws) return;
    if (this.ws === ws) this.ws = undefined;
    try {
      if (code === undefined) ws.close();
      else ws.close(code, reason);
    } catch { /* already closing */ }
  }

  /**
   * One socket or attempt is over: decide whether to reconnect (the policy is not asked when
   * the application `requested` it), then tell the listeners.
   */
  #ended(
    code: number,
    reason: string,
    wasClean: boolean,
    error?: ConnectError,
    requested = false,
  ): void {
    if (this.phase === "closed") return;
    this.ws = undefined;
    clearTimeout(this.#timer);
    this.#heartbeat?.stop();
    const event = new ClientCloseEvent({ code, reason, wasClean }, error);
    if (this.phase === "closing") return this.#finish(event);
    const openedAt = this.#openedAt;
    this.#openedAt = undefined;
    if (openedAt !== undefined && Date.now() - openedAt >= this.#settings.minUptime) {
      this.#attempt = 0;
    }
    const next = this.#attempt + 1;
    if (!requested && !this.#policy(event)) {
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

  #policy(event: ClientCloseEvent): boolean {
    try {
      return Boolean(this.#settings.shouldReconnect(event));
    } catch (error) {
      this.#host.dispatch(
        new ErrorEvent("error", { message: `shouldReconnect failed: ${message(error)}`, error }),
      );
      return defaultShouldReconnect(event);
    }
  }

  /**
   * Closed for good: the last close, then giving up, then what the outbox still held; unless
   * a listener started the client again in between (the outbox then waits for the new run).
   */
  #finish(event: ClientCloseEvent, giveUp?: GiveUpEvent): void {
    const run = this.#runs;
    this.phase = "closed";
    clearTimeout(this.#timer);
    this.#host.dispatch(event);
    if (giveUp && this.#runs === run) this.#host.dispatch(giveUp);
    if (this.#runs === run) this.#host.ended();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
