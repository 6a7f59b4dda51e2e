/**
 * The listener façade both adapters share, written once: routing a request that is not an
 * upgrade, the handler's endpoint members, `serve()`'s defaults, and the
 * {@linkcode Server} handle around an endpoint and a runtime listener.
 *
 * @module
 */

import { refuse, upgradeRequired } from "./handshake.ts";
import type { ServeOptions } from "./options.ts";
import type { Awaitable, Server, WebSocketEndpoint } from "./types.ts";

/**
 * Answers a request that is not an upgrade: `/wskit/client.js` with the client module (unless
 * `clientModule` declines it), the rest with the application's `fetch` when there is one (a
 * failure becomes a 500, never a crash), else with `426 Upgrade Required`.
 */
export async function answerPlain(
  request: Request,
  fetch: ((request: Request) => Awaitable<Response>) | undefined,
  clientModule: (request: Request) => Promise<Response | undefined> | undefined,
): Promise<Response> {
  const module = await clientModule(request);
  if (module) return module;
  if (!fetch) return upgradeRequired();
  try {
    return await fetch(request);
  } catch (error) {
    console.error("wskit: the fetch handler failed:", error);
    return refuse(500, "Internal Server Error");
  }
}

/** Where a runtime server listens and how to stop it. */
export interface Listening {
  hostname: string;
  port: number;
  /** Whether it listens with TLS (`wss:`). */
  secure: boolean;
  /** Stops listening and drops whatever connections remain. */
  stop(): Promise<void>;
}

/** A handler's {@linkcode WebSocketEndpoint} side: the endpoint's own members, bound. */
export function endpointFacade<T>(endpoint: WebSocketEndpoint<T>): WebSocketEndpoint<T> {
  return {
    peers: endpoint.peers, // the same live map for the endpoint's whole life
    stats: () => endpoint.stats(),
    publish: (topic, data, options) => endpoint.publish(topic, data, options),
    close: (code, reason) => endpoint.close(code, reason),
  };
}

/**
 * Where `serve()` listens (the documented defaults applied), and its options with the
 * listening host filled in, which the default origin check reads.
 */
export function listenOptions(options: ServeOptions): {
  listen: { port: number; hostname: string; reusePort: boolean };
  endpoint: ServeOptions;
} {
  const hostname = options.hostname ?? "127.0.0.1";
  return {
    listen: { port: options.port ?? 8000, hostname, reusePort: options.reusePort ?? false },
    endpoint: { ...options, hostname },
  };
}

/** How long `close()` waits for the runtime's listener to stop once every peer is gone. */
const STOP_TIMEOUT_MS = 1000;

/** Builds the handle `serve()` returns. */
export function serverHandle<T>(endpoint: WebSocketEndpoint<T>, listening: Listening): Server<T> {
  const host = listening.hostname.includes(":") ? `[${listening.hostname}]` : listening.hostname;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let stopping: Promise<void> | undefined;
  return {
    ...endpointFacade(endpoint),
    url: `${listening.secure ? "wss" : "ws"}://${host}:${listening.port}/`,
    port: listening.port,
    hostname: listening.hostname,
    finished,
    close(code?: number, reason?: string): Promise<void> {
      const peersClosed = endpoint.close(code, reason);
      stopping ??= peersClosed.then(() => stopWithin(listening.stop())).then(resolveFinished);
      return stopping;
    },
  };
}

/**
 * Waits for the runtime to stop, but not for ever: Deno's graceful shutdown waits for every
 * request in flight, and an upgrade whose client left before the 101 never finishes (Deno
 * 2.9). The runtime has stopped listening by then.
 */
async function stopWithin(stop: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => timer = setTimeout(resolve, STOP_TIMEOUT_MS));
  try {
    await Promise.race([stop, deadline]);
  } finally {
    clearTimeout(timer);
    stop.catch(() => {}); // a failure after the deadline has nobody left to tell
  }
}
