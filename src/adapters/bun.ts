/**
 * The Bun adapter: `Bun.serve({ fetch, websocket })` behind the shared core, as a pair to
 * plug into an existing `Bun.serve` and as a standalone `serve()`. Topics map to Bun's
 * native `subscribe`/`publish`, so a broadcast is one native loop.
 *
 * @example Mount wskit under /ws in an existing Bun server
 * ```ts ignore
 * import { createHandler } from "jsr:@wskit/wskit/bun";
 *
 * const ws = createHandler({
 *   message(peer, message) {
 *     peer.send(message);
 *   },
 * });
 * Bun.serve({
 *   fetch(request, server) {
 *     if (new URL(request.url).pathname === "/ws") return ws.upgrade(request, server);
 *     return new Response("Hello");
 *   },
 *   websocket: ws.websocket,
 * });
 * ```
 *
 * @module
 */

import type { SocketDriver, TcpStream } from "../adapter.ts";
import { type Accepted, Endpoint } from "../endpoint.ts";
import { isUpgrade, refuse, upgradeRequired } from "../handshake.ts";
import type {
  EndpointOptions,
  Hooks,
  SendStatus,
  ServeOptions,
  Server,
  WebSocketEndpoint,
} from "../hooks.ts";
import { answerPlain, endpointFacade, listenOptions, serverHandle } from "../listener.ts";
import type { ServerPeer } from "../peer.ts";

export type { Relay, RelayDeliver, RelayStats } from "../relay.ts";
export type { TcpStream } from "../adapter.ts";

/** The part of Bun's `ServerWebSocket` the adapter uses. */
export interface BunServerWebSocket {
  /** The value passed as `data` to `server.upgrade` (the adapter's own state). */
  readonly data: unknown;
  /** How binary messages are delivered. */
  binaryType?: string;
  /** Sends a frame: bytes written, -1 under backpressure, 0 dropped. */
  send(data: string | Uint8Array, compress?: boolean): number;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Drops the connection. */
  terminate(): void;
  /** Joins a topic. */
  subscribe(topic: string): void;
  /** Leaves a topic. */
  unsubscribe(topic: string): void;
  /** Publishes to a topic, excluding this socket. */
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  /** Bytes buffered in user space. */
  getBufferedAmount(): number;
}

/** The part of Bun's `Server` the adapter uses. */
export interface BunServerLike {
  /** Upgrades a request; `false` when Bun refuses the handshake. */
  upgrade(request: Request, options: { data: unknown; headers?: HeadersInit }): boolean;
  /** Publishes to every socket subscribed to `topic`. */
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  /** The remote address of a request's connection. */
  requestIP?(request: Request): { address: string } | null;
}

/** The `websocket` object to pass to `Bun.serve`. */
export interface BunWebSocketHandler {
  /** Called by Bun when a socket opens. */
  open(ws: BunServerWebSocket): void;
  /** Called by Bun for every message. */
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  /** Called by Bun when a socket has closed. */
  close(ws: BunServerWebSocket, code: number, reason: string): void;
  /** Called by Bun when a socket's backpressure has cleared. */
  drain(ws: BunServerWebSocket): void;
  /** Bun option: compression stays off (see README). */
  perMessageDeflate: boolean;
  /** Bun option: `ws.publish` leaves the sender out. */
  publishToSelf: boolean;
  /** Bun option: the largest message, in bytes (wskit's `maxPayload`). */
  maxPayloadLength: number;
  /** Bun option: seconds of silence before a ping and a close (wskit's `idleTimeout`). */
  idleTimeout: number;
  /** Bun option: ping before the idle timeout expires. */
  sendPings: boolean;
  /** Bun option: outbound bytes per socket (wskit's `backpressure.limit`). */
  backpressureLimit: number;
  /** Bun option: drop the socket past the limit (wskit's `backpressure.policy: "close"`). */
  closeOnBackpressureLimit: boolean;
}

/**
 * A wskit endpoint to plug into an existing `Bun.serve`.
 *
 * @typeParam T The per-connection data type.
 */
export interface BunHandler<T = unknown> extends WebSocketEndpoint<T> {
  /**
   * Upgrades one request, or refuses it with a response that says why. Return its result
   * from the `fetch` of `Bun.serve`: `undefined` means Bun has taken the connection over.
   *
   * @param request The request Bun received.
   * @param server The Bun server (the second argument of `fetch`).
   * @returns A refusal, or `undefined` once upgraded.
   */
  upgrade(request: Request, server: BunServerLike): Promise<Response | undefined>;
  /** The `websocket` option of `Bun.serve`. */
  readonly websocket: BunWebSocketHandler;
}

/** One Bun socket, as the core sees it; carried as the socket's `data`. */
class BunSocket implements SocketDriver {
  ws!: BunServerWebSocket;
  peer!: ServerPeer<unknown>;
  readonly nativeBackpressure = true;

  constructor(readonly endpoint: Endpoint<unknown>) {}

  send(data: string | Uint8Array): SendStatus {
    const status = this.ws.send(data);
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

  subscribe(topic: string): void {
    this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.ws.unsubscribe(topic);
  }

  publish(topic: string, data: string | Uint8Array): void {
    this.ws.publish(topic, data);
  }
}

let endpoints = 0;

/**
 * Creates a wskit endpoint to plug into an existing `Bun.serve`.
 *
 * @example Echo under /ws
 * ```ts ignore
 * import { createHandler } from "jsr:@wskit/wskit/bun";
 *
 * const ws = createHandler({ message: (peer, message) => void peer.send(message) });
 * Bun.serve({ fetch: (req, server) => ws.upgrade(req, server), websocket: ws.websocket });
 * ```
 *
 * @typeParam T The per-connection data type.
 * @param hooks The application's hooks.
 * @param options Endpoint options.
 * @returns The upgrade function, the `websocket` object, and the endpoint's peers, stats,
 * publish and close.
 */
export function createHandler<T = unknown>(
  hooks: Hooks<T>,
  options: EndpointOptions = {},
): BunHandler<T> {
  let bunServer: BunServerLike | undefined;
  const endpoint = new Endpoint<T>(
    hooks,
    options,
    { publish: (topic, data) => void bunServer?.publish(topic, data) },
    // Bun's topics are server-wide: a prefix keeps two endpoints on one server apart.
    `${++endpoints}\u0000`,
  );
  const core = endpoint as unknown as Endpoint<unknown>;
  return {
    ...endpointFacade(endpoint),
    async upgrade(request: Request, server: BunServerLike): Promise<Response | undefined> {
      if (!isUpgrade(request)) return upgradeRequired();
      bunServer ??= server;
      const remoteAddress = server.requestIP?.(request)?.address;
      const accepted = await endpoint.accept(request, remoteAddress);
      if (accepted instanceof Response) return accepted;
      const headers = accepted.headers ?? new Headers();
      // An empty value stops Bun from echoing the first offered subprotocol (bun#18243).
      headers.set("sec-websocket-protocol", accepted.init.protocol);
      const driver = new BunSocket(core);
      driver.peer = core.createPeer(accepted as Accepted<unknown>, driver);
      if (server.upgrade(request, { data: driver, headers })) return undefined;
      core.abandon(driver.peer);
      return refuse(400, "Cannot upgrade: Bun refused the handshake");
    },
    websocket: {
      ...dispatch,
      perMessageDeflate: false,
      publishToSelf: false,
      maxPayloadLength: core.limits.maxPayload,
      idleTimeout: core.limits.idleTimeout,
      sendPings: true,
      backpressureLimit: core.limits.backpressureLimit,
      closeOnBackpressureLimit: core.limits.closeSlowPeers,
    },
  };
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

/** The part of the `Bun` global that `serve()` uses. */
interface BunGlobal {
  serve(options: {
    port: number;
    hostname: string;
    reusePort: boolean;
    fetch(request: Request, server: BunServerLike): Promise<Response | undefined> | Response;
    websocket: BunWebSocketHandler;
    error(error: Error): Response;
  }): { port: number; hostname: string; stop(closeActive?: boolean): Promise<void> };
}

/**
 * Starts a Bun server whose every upgrade request goes to `hooks`.
 *
 * @example Echo server on a free port
 * ```ts ignore
 * import { serve } from "jsr:@wskit/wskit/bun";
 *
 * const server = await serve({ message: (peer, m) => void peer.send(m) }, { port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 *
 * @typeParam T The per-connection data type.
 * @param hooks The application's hooks.
 * @param options Where to listen, a `fetch` for plain requests, endpoint options.
 * @returns The running server.
 */
export function serve<T = unknown>(
  hooks: Hooks<T>,
  options: ServeOptions = {},
): Promise<Server<T>> {
  const { listen, endpoint } = listenOptions(options);
  const handler = createHandler(hooks, endpoint);
  const fetch = options.fetch;
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const server = bun.serve({
    ...listen,
    fetch: (request, server) =>
      isUpgrade(request) ? handler.upgrade(request, server) : answerPlain(request, fetch),
    websocket: handler.websocket,
    error(error) {
      console.error("wskit: the server failed on a request:", error);
      return refuse(500, "Internal Server Error");
    },
  });
  return Promise.resolve(serverHandle(handler, {
    hostname: server.hostname,
    port: server.port,
    stop: () => server.stop(true),
  }));
}

/** The part of a Bun TCP socket `connectTcp` uses. */
interface BunTcpSocket {
  write(data: Uint8Array): number;
  end(): void;
}

/** The part of the `Bun` global that `connectTcp` uses. */
interface BunConnect {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      data(socket: BunTcpSocket, data: Uint8Array): void;
      drain(socket: BunTcpSocket): void;
      close(socket: BunTcpSocket): void;
      error(socket: BunTcpSocket, error: Error): void;
    };
  }): Promise<BunTcpSocket>;
}

/**
 * Opens a TCP connection with `Bun.connect`, as Web streams (used by the Redis relay).
 *
 * @param hostname The host.
 * @param port The port.
 * @returns The connection.
 */
export async function connectTcp(hostname: string, port: number): Promise<TcpStream> {
  const bun = (globalThis as unknown as { Bun: BunConnect }).Bun;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let done = false;
  let waiting: (() => void) | undefined;
  const end = (error?: Error) => {
    if (done) return;
    done = true;
    waiting?.();
    try {
      if (error) controller.error(error);
      else controller.close();
    } catch { /* already closed */ }
  };
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const socket = await bun.connect({
    hostname,
    port,
    socket: {
      data: (_s, data) => controller.enqueue(new Uint8Array(data)),
      drain: () => waiting?.(),
      close: () => end(),
      error: (_s, error) => end(error),
    },
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      let rest = chunk;
      while (rest.length > 0) {
        if (done) throw new Error("Cannot write: the connection is closed");
        const n = socket.write(rest);
        rest = rest.subarray(Math.max(n, 0));
        if (rest.length > 0) await new Promise<void>((r) => waiting = r);
      }
    },
  });
  return {
    readable,
    writable,
    close() {
      socket.end();
      end();
    },
  };
}
