/**
 * The Bun adapter: `Bun.serve({ fetch, websocket })` behind the shared core, as a handler to
 * plug into any `Bun.serve` (`serve()` from `@wskit/wskit` starts a whole server on it).
 * Topics map to Bun's native `subscribe`/`publish`, so a broadcast is one native loop.
 *
 * @example Mount wskit under /ws in an existing Bun server
 * ```ts
 * import { type BunServerLike, createHandler } from "@wskit/wskit/bun";
 *
 * declare const Bun: { serve(options: object): unknown }; // Bun's global, for a check on Deno
 *
 * const ws = createHandler({
 *   message(peer, message) {
 *     peer.send(message);
 *   },
 * });
 * Bun.serve({
 *   fetch(request: Request, server: BunServerLike) {
 *     if (new URL(request.url).pathname === "/ws") return ws.handleUpgrade(request, server);
 *     return new Response("Hello");
 *   },
 *   websocket: ws.websocket,
 * });
 * ```
 *
 * @module
 */

import { clientModuleFor } from "../server/_client_module.ts";
import type { NativeTopics, SocketDriver } from "../server/driver.ts";
import { type Accepted, Endpoint } from "../server/endpoint.ts";
import { refuse } from "../server/handshake.ts";
import { endpointFacade } from "../server/listener.ts";
import type { EndpointOptions } from "../server/options.ts";
import { OPEN, type ServerPeer } from "../server/peer.ts";
import type { Hooks, SendStatus, WebSocketEndpoint } from "../server/types.ts";
import type { BunServerLike, BunServerWebSocket, BunWebSocketHandler } from "./_bun_types.ts";

export type { BunServerLike, BunServerWebSocket, BunWebSocketHandler } from "./_bun_types.ts";

/**
 * A wskit endpoint to plug into an existing `Bun.serve`.
 *
 * @typeParam T The per-connection data type.
 */
export interface BunHandler<T = unknown> extends WebSocketEndpoint<T> {
  /**
   * Upgrades one request, or refuses it with a response that says why. Return its result
   * from the `fetch` of `Bun.serve`: `undefined` means Bun has taken the connection over. A
   * `GET` or `HEAD` of `/wskit/client.js` gets the browser client instead (`serveClient`).
   *
   * @param request The request Bun received.
   * @param server The Bun server (the second argument of `fetch`).
   * @returns A refusal, or `undefined` once upgraded.
   */
  handleUpgrade(request: Request, server: BunServerLike): Promise<Response | undefined>;
  /** The `websocket` option of `Bun.serve`. */
  readonly websocket: BunWebSocketHandler;
}

/** One Bun socket, as the core sees it; carried as the socket's `data`. */
class BunSocket implements SocketDriver {
  ws!: BunServerWebSocket;
  peer!: ServerPeer<unknown>;
  readonly nativeBackpressure = true;

  /**
   * @param endpoint The endpoint the socket belongs to.
   * @param compressFrom The length from which a message goes out compressed (`Infinity`: off).
   */
  constructor(readonly endpoint: Endpoint<unknown>, readonly compressFrom: number) {}

  send(data: string | Uint8Array): SendStatus {
    // Bun compresses only what it is asked to, and only for a client that negotiated it.
    const status = this.ws.send(data, data.length >= this.compressFrom);
    if (status > 0) return "sent";
    if (status === -1) return "queued";
    // Bun also answers 0 for an empty message it did send.
    return data.length === 0 ? "sent" : "dropped";
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  get bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }
}

let endpoints = 0;

/**
 * Bun's topics for one endpoint. They are server-wide, so a prefix keeps two endpoints on
 * one server apart; and `ws.publish` from a socket that is closing delivers nothing
 * (bun#6691), so such a publish goes through the server, which reaches the closing sender
 * too (a send to it is dropped).
 */
class BunTopics implements NativeTopics {
  #prefix = `${++endpoints}\u0000`;
  server: BunServerLike | undefined;

  constructor(readonly compressFrom: number) {}

  subscribe(socket: SocketDriver, topic: string): void {
    (socket as BunSocket).ws.subscribe(this.#prefix + topic);
  }

  unsubscribe(socket: SocketDriver, topic: string): void {
    (socket as BunSocket).ws.unsubscribe(this.#prefix + topic);
  }

  publish(topic: string, data: string | Uint8Array, except?: SocketDriver): void {
    const sender = except as BunSocket | undefined;
    const compress = data.length >= this.compressFrom;
    if (sender && sender.peer.readyState === OPEN) {
      sender.ws.publish(this.#prefix + topic, data, compress);
    } else this.server?.publish(this.#prefix + topic, data, compress);
  }
}

/**
 * Creates a wskit endpoint to plug into an existing `Bun.serve`.
 *
 * @example Echo on every path
 * ```ts
 * import { type BunServerLike, createHandler } from "@wskit/wskit/bun";
 *
 * declare const Bun: { serve(options: object): unknown }; // Bun's global, for a check on Deno
 *
 * const ws = createHandler({ message: (peer, message) => void peer.send(message) });
 * Bun.serve({
 *   fetch: (request: Request, server: BunServerLike) => ws.handleUpgrade(request, server),
 *   websocket: ws.websocket,
 * });
 * ```
 *
 * @typeParam T The per-connection data type.
 * @param hooks The application's hooks.
 * @param options Endpoint options.
 * @returns The upgrade function, the `websocket` object, and the endpoint's peers, stats,
 * publish and close.
 * @throws {TypeError} For a `compression` that is neither a boolean nor an object.
 * @throws {RangeError} For a `compression.threshold` that is not a number of bytes.
 */
export function createHandler<T = unknown>(
  hooks: Hooks<T>,
  options: EndpointOptions = {},
): BunHandler<T> {
  const compressFrom = compressionThreshold(options.compression);
  const clientModule = clientModuleFor(options);
  const topics = new BunTopics(compressFrom);
  const endpoint = new Endpoint<T>(hooks, options, topics);
  const core = endpoint as unknown as Endpoint<unknown>;
  const limits = core.limits;
  return {
    ...endpointFacade(endpoint),
    async handleUpgrade(request: Request, server: BunServerLike): Promise<Response | undefined> {
      const module = await clientModule(request);
      if (module) return module;
      topics.server ??= server;
      const remoteAddress = server.requestIP?.(request)?.address;
      const accepted = await endpoint.accept(request, remoteAddress);
      if (accepted instanceof Response) return accepted;
      const headers = accepted.headers ?? new Headers();
      // An empty value stops Bun from echoing the first offered subprotocol (bun#18243).
      headers.set("sec-websocket-protocol", accepted.init.protocol);
      const driver = new BunSocket(core, compressFrom);
      driver.peer = core.createPeer(accepted as Accepted<unknown>, driver);
      if (server.upgrade(request, { data: driver, headers })) return undefined;
      core.abandon(driver.peer);
      return refuse(400, "Cannot upgrade: Bun refused the handshake");
    },
    websocket: {
      ...dispatch,
      // Bun's shared compressor: no context between messages, no memory per connection.
      perMessageDeflate: compressFrom !== Infinity,
      publishToSelf: false,
      maxPayloadLength: limits.maxPayloadBytes,
      // Bun counts in seconds (in steps of 4, at least 8); 0 turns it off.
      idleTimeout: limits.idleTimeout === 0
        ? 0
        : Math.max(1, Math.round(limits.idleTimeout / 1000)),
      sendPings: true,
      backpressureLimit: limits.backpressureBytes,
      closeOnBackpressureLimit: limits.closeSlowPeers,
    },
  };
}

/**
 * The length from which messages go out compressed, from the `compression` option.
 *
 * @returns `Infinity` when compression is off.
 */
function compressionThreshold(compression: EndpointOptions["compression"]): number {
  if (compression === undefined || compression === false) return Infinity;
  if (compression !== true && (typeof compression !== "object" || compression === null)) {
    throw new TypeError("Cannot configure compression: expected a boolean or { threshold }");
  }
  const threshold = compression === true ? undefined : compression.threshold;
  if (threshold === undefined) return 1024;
  if (typeof threshold !== "number" || !(threshold >= 0)) {
    throw new RangeError(
      `Cannot configure compression: threshold must be a number of bytes, got ${threshold}`,
    );
  }
  return threshold;
}

/**
 * What Bun reports (code 1006 and a reason) when it drops a connection itself, and the code
 * that the same event gets on Deno.
 */
const DROPPED = new Map<string, [number, string, "tooBig" | "protocol" | "idle"]>([
  ["Received too big message", [1009, "Message too big", "tooBig"]],
  ["Received invalid UTF-8", [1007, "Invalid UTF-8", "protocol"]],
  ["WebSocket timed out from inactivity", [1006, "Idle timeout", "idle"]],
]);

/**
 * Bun calls one set of handlers per server; each socket's data knows its endpoint, so the
 * `websocket` object of any handler serves every handler mounted on the same server.
 */
const dispatch = {
  open(ws: BunServerWebSocket): void {
    ws.binaryType = "uint8array";
    const driver = ws.data as BunSocket;
    driver.ws = ws;
    driver.endpoint.opened(driver.peer);
  },
  message(ws: BunServerWebSocket, message: string | Uint8Array): void {
    const driver = ws.data as BunSocket;
    driver.endpoint.received(driver.peer, message);
  },
  close(ws: BunServerWebSocket, code: number, reason: string): void {
    const { endpoint, peer } = ws.data as BunSocket;
    if (code === 1006 && reason !== "") {
      const known = DROPPED.get(reason);
      if (known) {
        endpoint.counters.closed[known[2]]++;
        endpoint.closed(peer, known[0], known[1]);
        return;
      }
      if (reason.startsWith("Received ")) {
        // Bun's other protocol errors ("Received invalid opcode", ...).
        endpoint.counters.closed.protocol++;
        endpoint.closed(peer, 1002, reason);
        return;
      }
    }
    endpoint.closed(peer, code, reason);
  },
  drain(ws: BunServerWebSocket): void {
    const driver = ws.data as BunSocket;
    driver.endpoint.drained(driver.peer);
  },
};
