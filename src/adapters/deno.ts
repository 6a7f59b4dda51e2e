/**
 * The Deno adapter: `Deno.upgradeWebSocket` behind the shared core, as a handler to mount in
 * any `Deno.serve`. (`serve()` from `@wskit/wskit` starts a whole server on it.)
 *
 * @example Mount wskit under /ws in an existing Deno server
 * ```ts
 * import { createHandler } from "@wskit/wskit/deno";
 *
 * const ws = createHandler({
 *   message(peer, message) {
 *     peer.send(message);
 *   },
 * });
 * Deno.serve((request, info) =>
 *   new URL(request.url).pathname === "/ws"
 *     ? ws.handleUpgrade(request, info)
 *     : new Response("Hello")
 * );
 * ```
 *
 * @module
 */

import { clientModuleFor } from "../server/_client_module.ts";
import type { SocketDriver } from "../server/driver.ts";
import { type Accepted, Endpoint } from "../server/endpoint.ts";
import { refuse } from "../server/handshake.ts";
import { endpointFacade } from "../server/listener.ts";
import type { EndpointOptions } from "../server/options.ts";
import type { ServerPeer } from "../server/peer.ts";
import type { Hooks, SendStatus, WebSocketEndpoint } from "../server/types.ts";
import type { DenoGlobal, DenoServeInfo } from "./_deno_types.ts";

export type { DenoServeInfo } from "./_deno_types.ts";

/**
 * A wskit endpoint to mount in an existing `Deno.serve`.
 *
 * @typeParam T The per-connection data type.
 */
export interface DenoHandler<T = unknown> extends WebSocketEndpoint<T> {
  /**
   * Upgrades one request, or refuses it with a response that says why (`426` for a plain
   * request, `400` for a malformed upgrade, whatever the `upgrade` hook returns). A `GET` or
   * `HEAD` of `/wskit/client.js` gets the browser client instead (option `serveClient`).
   *
   * @param request The request `Deno.serve` received.
   * @param info The handler info `Deno.serve` passes, for the remote address.
   * @returns The response to return from the `Deno.serve` handler.
   */
  handleUpgrade(request: Request, info?: DenoServeInfo): Promise<Response>;
}

/** How long after a queued send the adapter looks at `bufferedAmount` again. */
const DRAIN_POLL_MS = 16;
/** Above this many buffered bytes a send reports `"queued"` and a drain is awaited. */
const QUEUED_MARK = 64 * 1024;

/** Deno's protocol errors (fastwebsockets' messages) and the close codes they stand for. */
const PROTOCOL_ERRORS = new Map([
  ["Invalid UTF-8", 1007],
  ["Frame too large", 1009],
  ["Invalid value", 1002],
  ["Invalid fragment", 1002],
  ["Invalid continuation frame", 1002],
  ["Invalid close frame", 1002],
  ["Invalid close code", 1002],
  ["Reserved bits are not zero", 1002],
  ["Control frame must not be fragmented", 1002],
  ["Ping frame too large", 1002],
]);
const IDLE_ERROR = "No response from ping frame.";
/** How long a close may wait for a peer that keeps sending before it goes out regardless. */
const CLOSE_DEFER_MS = 1000;

/** One Deno socket, as the core sees it; also its event listener (no closure per event). */
class DenoSocket implements SocketDriver {
  #ws: WebSocket;
  #endpoint: Endpoint<unknown>;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * An upper bound of the socket's `bufferedAmount` (an op call to read): the last reading
   * plus every byte sent since, text at 3 bytes per code unit plus a frame header. The queue
   * only shrinks between sends, so while the bound is under a mark, so is the queue.
   */
  #bound = 0;
  #error: string | undefined;
  #reported = false;
  /** The close asked for, and until when it may wait; see close(). */
  #closing: { code: number; reason: string; at: number } | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  peer!: ServerPeer<unknown>;

  constructor(ws: WebSocket, endpoint: Endpoint<unknown>) {
    this.#ws = ws;
    this.#endpoint = endpoint;
    ws.addEventListener("open", this);
    ws.addEventListener("message", this);
    ws.addEventListener("close", this);
    ws.addEventListener("error", this);
  }

  handleEvent(event: Event): void {
    switch (event.type) {
      case "message": {
        // A peer that keeps the loop so busy that the timer cannot run: close regardless.
        if (this.#closeTimer !== undefined && performance.now() > this.#closing!.at) {
          this.#closeNow();
        }
        const data = (event as MessageEvent).data;
        this.#endpoint.received(
          this.peer,
          typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer),
        );
        break;
      }
      case "open":
        // Deno keeps ~0.4 KiB per listener and socket; this one has done its work.
        this.#ws.removeEventListener("open", this);
        this.#endpoint.opened(this.peer);
        break;
      case "close": {
        clearTimeout(this.#drainTimer);
        clearTimeout(this.#closeTimer);
        const { code, reason } = event as CloseEvent;
        this.#closed(code, reason);
        break;
      }
      case "error":
        // Always followed by "close"; its message tells why the runtime dropped the link.
        this.#error ??= (event as ErrorEvent).message;
        break;
    }
  }

  /** Reports the close with the code an application would expect, the same as on Bun. */
  #closed(code: number, reason: string): void {
    // Deno may fire "close" twice (an idle timeout does: 1001, then 1005).
    if (this.#reported) return;
    this.#reported = true;
    const error = this.#error;
    const counters = this.#endpoint.counters;
    if (error === IDLE_ERROR || reason === IDLE_ERROR) {
      counters.closed.idle++;
      this.#endpoint.closed(this.peer, 1006, "Idle timeout");
    } else if (error !== undefined && PROTOCOL_ERRORS.has(error)) {
      // Deno drops the connection without a close frame; the hook still learns why.
      const mapped = PROTOCOL_ERRORS.get(error)!;
      if (mapped === 1009) counters.closed.tooBig++;
      else counters.closed.protocol++;
      this.#endpoint.closed(this.peer, mapped, error);
    } else {
      // Deno reports code 0 when the TCP connection ended without a close frame.
      this.#endpoint.closed(this.peer, code || 1006, reason);
    }
  }

  send(data: string | Uint8Array): SendStatus {
    // Deno's WebSocket takes any view; DOM's type (a Bun project with lib DOM) names only
    // ArrayBuffer-backed ones, which would fail that project's check of this Deno-only file.
    this.#ws.send(data as string | Uint8Array<ArrayBuffer>);
    this.#bound += (typeof data === "string" ? data.length * 3 : data.byteLength) + 14;
    if (this.#bound <= QUEUED_MARK) return "sent";
    if ((this.#bound = this.#ws.bufferedAmount) <= QUEUED_MARK) return "sent";
    this.#drainTimer ??= setTimeout(() => this.#pollDrain(), DRAIN_POLL_MS);
    return "queued";
  }

  #pollDrain(): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    if (this.#ws.bufferedAmount > QUEUED_MARK) {
      this.#drainTimer = setTimeout(() => this.#pollDrain(), DRAIN_POLL_MS);
      return;
    }
    this.#drainTimer = undefined;
    this.#endpoint.drained(this.peer);
  }

  /**
   * Closes after the messages that have arrived already are read. Deno drops the connection
   * without sending the close frame when a data frame is waiting as close() is called (a
   * peer flooding past its rate limit), so the client would see 1006; a timer runs once they
   * have been read, and the frame goes out first.
   */
  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = { code, reason, at: performance.now() + CLOSE_DEFER_MS };
    this.#closeTimer = setTimeout(() => this.#closeNow(), 0);
  }

  #closeNow(): void {
    const closing = this.#closing;
    if (!closing || this.#closeTimer === undefined) return;
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    try {
      this.#ws.close(closing.code, closing.reason);
    } catch { /* already closed */ }
  }

  terminate(): void {
    // Deno has no terminate(); a close without waiting is the closest it offers.
    clearTimeout(this.#drainTimer);
    clearTimeout(this.#closeTimer);
    try {
      this.#ws.close();
    } catch { /* already closing */ }
  }

  get bufferedAmount(): number {
    return this.#bound = this.#ws.bufferedAmount;
  }

  overLimit(limit: number): boolean {
    if (this.#bound <= limit) return false;
    return (this.#bound = this.#ws.bufferedAmount) > limit;
  }
}

/**
 * Creates a wskit endpoint to mount in an existing `Deno.serve`.
 *
 * @example Echo on every path
 * ```ts
 * import { createHandler } from "@wskit/wskit/deno";
 *
 * const ws = createHandler({ message: (peer, message) => void peer.send(message) });
 * Deno.serve((request, info) => ws.handleUpgrade(request, info));
 * ```
 *
 * @typeParam T The per-connection data type.
 * @param hooks The application's hooks.
 * @param options Endpoint options.
 * @returns The handler, with the endpoint's peers, stats, publish and close.
 * @throws {Error} For `compression`, which Deno's WebSocket server does not support.
 */
export function createHandler<T = unknown>(
  hooks: Hooks<T>,
  options: EndpointOptions = {},
): DenoHandler<T> {
  if (options.compression !== undefined && options.compression !== false) {
    throw new Error(
      "Cannot configure compression: Deno's WebSocket server does not support permessage-deflate",
    );
  }
  const clientModule = clientModuleFor(options);
  const endpoint = new Endpoint<T>(hooks, options);
  const core = endpoint as unknown as Endpoint<unknown>;
  return {
    ...endpointFacade(endpoint),
    async handleUpgrade(request: Request, info?: DenoServeInfo): Promise<Response> {
      const module = await clientModule(request);
      if (module) return module;
      // The remote address must be read before the upgrade invalidates the request.
      const addr = info?.remoteAddr;
      const remoteAddress = addr && addr.transport === "tcp" ? addr.hostname : undefined;
      const accepted = await endpoint.accept(request, remoteAddress);
      if (accepted instanceof Response) return accepted;
      let upgraded;
      try {
        // The subprotocol header is set below: Deno checks the choice against the offer split
        // at ", " only, and would refuse "b" from "a,b". Deno counts the timeout in seconds.
        const idleTimeout = Math.ceil(core.limits.idleTimeout / 1000);
        upgraded = (globalThis as unknown as DenoGlobal).Deno.upgradeWebSocket(request, {
          idleTimeout,
        });
      } catch (error) {
        endpoint.release(accepted);
        return refuse(400, `Cannot upgrade: ${(error as Error).message}`);
      }
      const { socket, response } = upgraded;
      accepted.headers?.forEach((value, name) => response.headers.append(name, value));
      const protocol = accepted.init.protocol;
      if (protocol !== "") response.headers.set("sec-websocket-protocol", protocol);
      const driver = new DenoSocket(socket, core);
      driver.peer = core.createPeer(accepted as Accepted<unknown>, driver);
      return response;
    },
  };
}
