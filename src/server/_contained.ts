/**
 * Running hooks so that none can take the server down, and waiting with deadlines for the
 * peers to be gone. Internal to the server core.
 *
 * @module
 */

import { CLOSING } from "./peer.ts";

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
