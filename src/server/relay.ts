/**
 * The relay seam as the core sees it: how a publish on one server instance reaches the
 * subscribers of every other instance. The topic hub hands each publish to the relay after
 * the local fan-out, and delivers what the relay brings from other instances to its local
 * subscribers only, so that every subscriber gets each message once, in publish order per
 * publisher. A leaf; the drivers (`BroadcastChannelRelay`, `RedisRelay`) live in `src/relay/`.
 *
 * @module
 */

/** Where a relay hands what other instances published. */
export type RelayDeliver = (topic: string, data: string | Uint8Array) => void;

/** A relay's health and counters, as `stats().relay` reports them. */
export interface RelayStats {
  /** Whether the relay can reach the other instances right now. */
  connected: boolean;
  /** Publishes handed to the other instances. */
  published: number;
  /** Publishes received from other instances. */
  received: number;
  /** Publishes waiting for the link to come back. */
  buffered: number;
  /** Publishes given up during an outage (the buffer was full), counted, never silent. */
  dropped: number;
  /** Times the link was lost and re-established. */
  reconnects: number;
  /** The last error, if any. */
  lastError?: string;
}

/** What the hub needs from a cross-instance fan-out. */
export interface Relay {
  /**
   * Starts relaying; called once by the endpoint that owns the relay.
   *
   * @param deliver Receives what other instances publish (never this instance's own).
   * @param restored Called when the link comes back after an outage, during which other
   * instances' publishes may have been missed.
   */
  start(deliver: RelayDeliver, restored?: () => void): void | Promise<void>;
  /** Hands a publish to the other instances. */
  publish(topic: string, data: string | Uint8Array): void;
  /** Health and counters. */
  stats(): RelayStats;
  /** Stops relaying and releases connections. */
  close(): Promise<void>;
}
