/**
 * What an endpoint reports: its counters and gauges. A leaf.
 *
 * @module
 */

import type { RelayStats } from "./relay.ts";

/** What the limits have done since the endpoint started. */
export interface LimitStats {
  /** Messages not sent to a peer over its backpressure limit (policy `"drop"`). */
  dropped: number;
  /** Peers closed by a limit or a protocol error, by cause. */
  closed: {
    backpressure: number;
    rateLimit: number;
    tooBig: number;
    idle: number;
    protocol: number;
    /** Accepted upgrades given up because they did not open within `openTimeout`. */
    openTimeout: number;
  };
  /**
   * Upgrades (origin, capacity, per-address limit, malformed) and messages (rate limit)
   * refused.
   */
  refused: {
    origin: number;
    capacity: number;
    address: number;
    malformed: number;
    rateLimit: number;
  };
}

/** Counters and gauges of an endpoint, as `stats()` reports them. */
export interface ServerStats extends LimitStats {
  /** Open connections. */
  peers: number;
  /** Topics with at least one local subscriber. */
  topics: number;
  /** Local subscribers per topic. */
  subscribers: Record<string, number>;
  /** Bytes queued for sending that the runtime has not written yet, over all peers. */
  queuedBytes: number;
  /** Peers whose outbound queue is over the backpressure limit right now. */
  slowPeers: number;
  /** Accepted upgrades that have not opened yet. */
  pending: number;
  /**
   * Connections closed by a limit whose runtime has not reported the end yet (on Deno a
   * client that never answers the close frame keeps its connection); they count against
   * `maxConnections`.
   */
  closing: number;
  /** The relay's health and counters, when there is a relay. */
  relay?: RelayStats;
}
