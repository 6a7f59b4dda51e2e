/**
 * What the two adapters' `serve()` share: routing a request that is not an upgrade, and the
 * {@linkcode Server} handle around an endpoint and a runtime listener.
 *
 * @module
 */

import { refuse, upgradeRequired } from "./handshake.ts";
import type { Awaitable, Server, WebSocketEndpoint } from "./hooks.ts";

/**
 * Answers a request that is not an upgrade: with the application's `fetch` when there is
 * one (a failure becomes a 500, never a crash), else with `426 Upgrade Required`.
 */
export async function answerPlain(
  request: Request,
  fetch: ((request: Request) => Awaitable<Response>) | undefined,
): Promise<Response> {
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
  /** Stops listening and drops whatever connections remain. */
  stop(): Promise<void>;
}

/** Builds the handle `serve()` returns. */
export function serverHandle<T>(endpoint: WebSocketEndpoint<T>, listening: Listening): Server<T> {
  const host = listening.hostname.includes(":") ? `[${listening.hostname}]` : listening.hostname;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let stopping: Promise<void> | undefined;
  return {
    url: `ws://${host}:${listening.port}/`,
    port: listening.port,
    hostname: listening.hostname,
    finished,
    get peers() {
      return endpoint.peers;
    },
    stats: () => endpoint.stats(),
    publish: (topic, data, options) => endpoint.publish(topic, data, options),
    close(code?: number, reason?: string): Promise<void> {
      const peersClosed = endpoint.close(code, reason);
      stopping ??= peersClosed.then(() => listening.stop()).then(resolveFinished);
      return stopping;
    },
  };
}
