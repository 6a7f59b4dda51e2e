/**
 * The reconnecting client's heartbeat: after `interval` of silence it pings; when the ping
 * meets silence for `timeout` the link is dead. Anything that arrives is a sign of life.
 * Timers may lag (a browser throttles a background tab), so the deadline is also checked by
 * the clock. Internal.
 *
 * @module
 */

import type { ClientHeartbeatOptions } from "./options.ts";

/** The heartbeat of one client, across its connections. */
export class Heartbeat {
  readonly settings: Required<ClientHeartbeatOptions>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSeen = 0;
  #pingSentAt: number | undefined;
  #ping: () => void = () => {};
  #dead: () => void = () => {};

  constructor(settings: Required<ClientHeartbeatOptions>) {
    this.settings = settings;
  }

  /**
   * Starts watching a connection.
   *
   * @param ping Sends the ping on it.
   * @param dead Called when the ping went unanswered.
   */
  start(ping: () => void, dead: () => void): void {
    this.#ping = ping;
    this.#dead = dead;
    this.#lastSeen = Date.now();
    this.#pingSentAt = undefined;
    this.#arm(this.settings.interval);
  }

  /**
   * Something arrived.
   *
   * @returns Whether it was the pong (which the application never sees).
   */
  received(data: unknown): boolean {
    this.#lastSeen = Date.now();
    if (this.#pingSentAt !== undefined) {
      this.#pingSentAt = undefined;
      this.#arm(this.settings.interval);
    }
    return data === this.settings.pong;
  }

  /** Stops watching (the connection is gone). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pingSentAt = undefined;
  }

  /** Whether a ping has gone unanswered past its timeout, by the clock (timers may lag). */
  expired(): boolean {
    const sent = this.#pingSentAt;
    return sent !== undefined && Date.now() - sent > this.settings.timeout;
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), ms);
  }

  /** Pings after `interval` of silence; the link is dead when the ping meets silence too. */
  #tick(): void {
    // Anything that arrived after the ping cleared it (see received).
    if (this.#pingSentAt !== undefined) return this.#dead();
    const idle = Date.now() - this.#lastSeen;
    if (idle < this.settings.interval) return this.#arm(this.settings.interval - idle);
    this.#pingSentAt = Date.now();
    this.#ping();
    this.#arm(this.settings.timeout);
  }
}
