/**
 * The running counters of an endpoint, plain numbers that the paths they count add to, and
 * the snapshot that `stats()` makes of them together with the gauges. Runtime-neutral.
 *
 * @module
 */

import type { Relay } from "./relay.ts";
import type { LimitStats, ServerStats } from "./stats.ts";

/** An endpoint's counters: the limits' and the traffic's, flat where a message adds to them. */
export interface Counters extends LimitStats {
  opened: number;
  receivedMessages: number;
  receivedBytes: number;
  sentMessages: number;
  sentBytes: number;
  /** Closes by class, at the index {@linkcode countClose} gives a code. */
  closeCodes: number[];
}

/** The names of the close-code classes, by index: 1000-1015 each, then the ranges. */
const CLOSE_CLASSES: readonly string[] = [
  ...Array.from({ length: 16 }, (_, i) => String(1000 + i)),
  "3xxx",
  "4xxx",
  "other",
];

/** Fresh counters for `stats()`. */
export function newCounters(): Counters {
  return {
    dropped: 0,
    closed: { backpressure: 0, rateLimit: 0, tooBig: 0, idle: 0, protocol: 0, openTimeout: 0 },
    refused: {
      origin: 0,
      capacity: 0,
      address: 0,
      malformed: 0,
      hook: 0,
      error: 0,
      shutdown: 0,
      rateLimit: 0,
    },
    opened: 0,
    receivedMessages: 0,
    receivedBytes: 0,
    sentMessages: 0,
    sentBytes: 0,
    closeCodes: CLOSE_CLASSES.map(() => 0),
  };
}

/**
 * Counts a close under its class. A client chooses its close code: classes keep what it can
 * make the counters hold to a fixed few.
 */
export function countClose(counters: Counters, code: number): void {
  const index = code >= 1000 && code <= 1015
    ? code - 1000
    : code >= 3000 && code <= 3999
    ? 16
    : code >= 4000 && code <= 4999
    ? 17
    : 18;
  counters.closeCodes[index]!++;
}

/** What of an endpoint's places `stats()` reports. */
export interface PlaceGauges {
  /** Accepted upgrades that have not opened. */
  pending: number;
  /** Peers closed by a limit that the runtime still holds. */
  closing: number;
}

/** The snapshot `stats()` returns: the counters copied, the gauges read now. */
export function snapshot(
  c: Counters,
  peers: ReadonlyMap<string, { readonly bufferedAmount: number }>,
  hub: {
    readonly topicCount: number;
    subscribers(): Record<string, number>;
    readonly relay: Relay | undefined;
  },
  backpressureBytes: number,
  places: PlaceGauges,
): ServerStats {
  let queuedBytes = 0;
  let slowPeers = 0;
  for (const peer of peers.values()) {
    const queued = peer.bufferedAmount;
    queuedBytes += queued;
    if (queued > backpressureBytes) slowPeers++;
  }
  const closeCodes: Record<string, number> = {};
  c.closeCodes.forEach((n, i) => {
    if (n > 0) closeCodes[CLOSE_CLASSES[i]!] = n;
  });
  return {
    peers: peers.size,
    topics: hub.topicCount,
    subscribers: hub.subscribers(),
    queuedBytes,
    slowPeers,
    pending: places.pending,
    closing: places.closing,
    dropped: c.dropped,
    closed: { ...c.closed },
    refused: { ...c.refused },
    opened: c.opened,
    received: { messages: c.receivedMessages, bytes: c.receivedBytes },
    sent: { messages: c.sentMessages, bytes: c.sentBytes },
    closeCodes,
    ...(hub.relay ? { relay: hub.relay.stats() } : {}),
  };
}

/** Counts an upgrade refused for `reason`, and gives back the refusal. */
export function counted(
  counters: Counters,
  reason: keyof LimitStats["refused"],
  refusal: Response,
): Response {
  counters.refused[reason]++;
  return refusal;
}
