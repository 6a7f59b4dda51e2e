/**
 * `BroadcastChannelRelay`: topics across the workers of one process, on the Web-standard
 * `BroadcastChannel`. On Deno it crosses the workers of `deno serve --parallel`; on Bun,
 * `Worker`s. It does not cross processes: use the Redis relay for that.
 *
 * @example Every core of one machine with `deno serve --parallel`
 * ```ts
 * import { createHandler } from "@wskit/wskit/deno";
 * import { BroadcastChannelRelay } from "@wskit/wskit/broadcast-channel";
 *
 * const ws = createHandler({
 *   open: (peer) => peer.subscribe("chat"),
 *   message: (peer, m) => peer.publish("chat", m, { self: true }),
 * }, { relay: new BroadcastChannelRelay("chat") });
 * export default {
 *   fetch: (request, info) => ws.handleUpgrade(request, info),
 * } satisfies Deno.ServeDefaultExport;
 * ```
 *
 * @module
 */

import type { Relay, RelayDeliver, RelayStats } from "../server/relay.ts";

interface Envelope {
  o: string;
  t: string;
  d: string | Uint8Array;
}

/**
 * A relay over a `BroadcastChannel`: every publish reaches the endpoints of the other
 * workers that opened a relay with the same name, once each, in order per publisher. A
 * channel never delivers a worker's own messages back to it.
 *
 * @example One chat across the workers of a process
 * ```ts
 * import { BroadcastChannelRelay, serve } from "@wskit/wskit";
 *
 * await serve({
 *   open: (peer) => peer.subscribe("chat"),
 *   message: (peer, m) => peer.publish("chat", m, { self: true }),
 * }, { port: 8000, reusePort: true, relay: new BroadcastChannelRelay("chat") });
 * ```
 */
export class BroadcastChannelRelay implements Relay {
  #name: string;
  #channel: BroadcastChannel | undefined;
  #origin = crypto.randomUUID();
  #published = 0;
  #received = 0;
  #closed = false;

  /**
   * Creates the relay; it opens its channel when the endpoint starts it.
   *
   * @param name The channel name; every worker of the application uses the same one.
   */
  constructor(name = "wskit") {
    this.#name = `wskit:${name}`;
  }

  /**
   * Opens the channel.
   *
   * @param deliver Receives the other workers' publishes.
   */
  start(deliver: RelayDeliver): void {
    // An open channel keeps the process alive: one at a time, and none once closed.
    this.#channel?.close();
    this.#channel = undefined;
    if (this.#closed) return;
    const channel = new BroadcastChannel(this.#name);
    // The event's type is inferred: Bun's `MessageEvent` global is not the one its
    // `BroadcastChannel` hands out, so naming it fails a Bun type check.
    channel.onmessage = (event) => {
      const m = event.data as Envelope;
      if (!m || m.o === this.#origin || typeof m.t !== "string") return;
      this.#received++;
      deliver(m.t, m.d);
    };
    this.#channel = channel;
  }

  /** Posts a publish to the other workers. */
  publish(topic: string, data: string | Uint8Array): void {
    if (!this.#channel) return;
    this.#published++;
    this.#channel.postMessage({ o: this.#origin, t: topic, d: data } satisfies Envelope);
  }

  /** Counters; a channel within one process is always connected. */
  stats(): RelayStats {
    return {
      connected: this.#channel !== undefined,
      published: this.#published,
      received: this.#received,
      buffered: 0,
      dropped: 0,
      reconnects: 0,
    };
  }

  /** Closes the channel for good (a later `start()` opens none), which lets the process end. */
  close(): Promise<void> {
    this.#closed = true;
    this.#channel?.close();
    this.#channel = undefined;
    return Promise.resolve();
  }
}
