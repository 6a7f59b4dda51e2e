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
   * Upgrades refused (by the origin check, `maxConnections`, `maxConnectionsPerAddress`, as
   * malformed, by the `upgrade` hook answering a `Response`, because a hook or check failed,
   * because the endpoint is shutting down) and messages refused by the rate limit.
   */
  refused: {
    origin: number;
    capacity: number;
    address: number;
    malformed: number;
    /** Upgrades the `upgrade` hook answered (returned or threw) with a `Response`. */
    hook: number;
    /** Upgrades answered `500` because the origin check or the `upgrade` hook failed. */
    error: number;
    /** Upgrades answered `503` because the endpoint is closing. */
    shutdown: number;
    rateLimit: number;
  };
}

/**
 * What went through an endpoint since it started. Counted where the runtime hands wskit a
 * message or wskit hands it one, so that counting costs an addition: bytes of text are its
 * length in UTF-16 code units, which is its UTF-8 size for ASCII text.
 */
export interface TrafficStats {
  /** Connections that opened. */
  opened: number;
  /** Messages peers sent (every one the runtime delivered) and their bytes. */
  received: { messages: number; bytes: number };
  /**
   * Messages handed to the runtime for peers (sends, and each subscriber of a publish) and
   * their bytes; not those dropped by the backpressure policy.
   */
  sent: { messages: number; bytes: number };
  /**
   * Connections that opened and then closed, by the close code the `close` hook saw: the
   * code itself for 1000-1015, `"3xxx"` and `"4xxx"` for the registered and application
   * ranges, `"other"` for anything else. Codes that never occurred are left out.
   */
  closeCodes: Record<string, number>;
}

/** Counters and gauges of an endpoint, as `stats()` reports them. */
export interface ServerStats extends LimitStats, TrafficStats {
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
