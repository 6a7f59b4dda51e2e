/**
 * What the endpoint and the two adapters' `serve()` share around the lifecycle: routing a
 * request that is not an upgrade, running hooks so that none can take the server down,
 * waiting for the peers to be gone, and the {@linkcode Server} handle around an endpoint and
 * a runtime listener.
 *
 * @module
 */

import { refuse, upgradeRequired } from "./handshake.ts";
import type { Awaitable, ServeOptions, Server, WebSocketEndpoint } from "./hooks.ts";
import { CLOSING } from "./peer.ts";

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
    url: `ws://${host}:${listening.port}/`,
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

/** What running a hook needs of a peer: whether it is closing, and how to close it. */
interface Closable {
  readonly readyState: number;
  close(code: number, reason: string): void;
}

/**
 * Runs hooks so that none can take the server down: a throw or a rejection goes to the
 * `error` hook (or to the console without one, or when it fails too), and closes the peer
 * with 1011 where that is asked for. Close hooks still running are tracked, so that shutdown
 * can wait for them.
 */
export class Contained<P extends Closable> {
  #error: ((peer: P | null, error: unknown) => unknown) | undefined;
  #settled: () => void;
  #running = new Set<Promise<void>>();

  /**
   * @param error The `error` hook, if any.
   * @param settled Called whenever a tracked close hook has finished.
   */
  constructor(
    error: ((peer: P | null, error: unknown) => unknown) | undefined,
    settled: () => void,
  ) {
    this.#error = error;
    this.#settled = settled;
  }

  /** Close hooks still running. */
  get running(): number {
    return this.#running.size;
  }

  /** Resolves once every close hook running now has finished. */
  finished(): Promise<unknown> {
    return Promise.all(this.#running);
  }

  /** Runs a hook; a failure is reported and closes the peer with 1011. */
  run(peer: P, fn: () => unknown): void {
    try {
      const result = fn();
      if (result instanceof Promise) result.then(undefined, (e) => this.failed(peer, e));
    } catch (error) {
      this.failed(peer, error);
    }
  }

  /** Runs a close hook: a failure is only reported; shutdown waits for it while it runs. */
  track(peer: P, fn: () => unknown): void {
    let result;
    try {
      result = fn();
    } catch (error) {
      this.report(peer, error);
      return;
    }
    if (!(result instanceof Promise)) return;
    const done: Promise<void> = result.then(undefined, (e) => this.report(peer, e)).then(() => {
      this.#running.delete(done);
      this.#settled();
    });
    this.#running.add(done);
  }

  /** A hook failed: report it and close the peer with 1011. */
  failed(peer: P, error: unknown): void {
    this.report(peer, error);
    if (peer.readyState < CLOSING) peer.close(1011, "Internal error");
  }

  /** Hands an error to the error hook, or to the console when there is none or it fails. */
  report(peer: P | null, error: unknown): void {
    const hook = this.#error;
    if (!hook) {
      console.error("wskit: a hook failed:", error);
      return;
    }
    const last = (e: unknown) =>
      console.error("wskit: the error hook failed:", e, "handling:", error);
    try {
      const result = hook(peer, error);
      if (result instanceof Promise) result.catch(last);
    } catch (e) {
      last(e);
    }
  }
}

/** Waits with deadlines for a condition that its owner re-checks on every change. */
export class IdleWatch {
  #idle: () => boolean;
  #waiters: (() => void)[] = [];

  /** @param idle The condition. */
  constructor(idle: () => boolean) {
    this.#idle = idle;
  }

  /** Wakes every waiter if the condition holds now. */
  check(): void {
    if (this.#waiters.length === 0 || !this.#idle()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Waits for the condition.
   *
   * @returns `true` once it holds, `false` when `ms` milliseconds passed first.
   */
  wait(ms: number): Promise<boolean> {
    if (this.#idle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(wake);
    });
  }
}
