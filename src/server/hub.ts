/**
 * The topic registry: the one place that knows who listens to what, and that fans a
 * published message out to the local subscribers: one tight loop over the subscriber set,
 * or the runtime's own fan-out where an adapter has one (Bun). Runtime-neutral.
 *
 * @module
 */

import type { NativeTopics } from "./driver.ts";
import type { PeerTopics, ServerPeer } from "./peer.ts";
import type { Relay } from "./relay.ts";

// deno-lint-ignore no-explicit-any
type AnyPeer = ServerPeer<any>;

/** What the hub adds to for a native fan-out: messages, and bytes (or UTF-16 code units). */
export interface SentCounters {
  sentMessages: number;
  sentBytes: number;
}

/** Topic membership and local fan-out for one endpoint. */
export class Hub implements PeerTopics {
  #topics = new Map<string, Set<AnyPeer>>();
  #native: NativeTopics | undefined;
  /** Where publishes go for the other instances, if any. */
  relay: Relay | undefined;
  #sent: SentCounters | undefined;

  /**
   * @param native The runtime's own fan-out, when it has one.
   * @param sent Where the native fan-out counts what it sends (peers count their own sends).
   */
  constructor(native?: NativeTopics, sent?: SentCounters) {
    this.#native = native;
    this.#sent = sent;
  }

  /** Adds `peer` to `topic`. */
  subscribe(peer: AnyPeer, topic: string): void {
    let set = this.#topics.get(topic);
    if (!set) this.#topics.set(topic, set = new Set());
    set.add(peer);
    this.#native?.subscribe(peer.socket, topic);
  }

  /** Removes `peer` from `topic`. */
  unsubscribe(peer: AnyPeer, topic: string): void {
    this.#leave(peer, topic);
    this.#native?.unsubscribe(peer.socket, topic);
  }

  /** Removes a closed peer from all its topics (the runtime has already dropped the socket). */
  remove(peer: AnyPeer): void {
    for (const topic of peer.topics) this.#leave(peer, topic);
  }

  #leave(peer: AnyPeer, topic: string): void {
    const set = this.#topics.get(topic);
    if (set?.delete(peer) && set.size === 0) this.#topics.delete(topic);
  }

  /**
   * Delivers `data` to the subscribers of `topic`, except `except`: the local ones here, the
   * others through the relay.
   *
   * @param topic The topic.
   * @param data The normalized message.
   * @param except A peer to leave out (the publisher), if any.
   * @param local Leave the relay out.
   */
  publish(topic: string, data: string | Uint8Array, except?: AnyPeer, local = false): void {
    this.deliver(topic, data, except);
    if (!local) this.relay?.publish(topic, data);
  }

  /**
   * Delivers `data` to the local subscribers of `topic` only, except `except`.
   *
   * @param topic The topic.
   * @param data The normalized message.
   * @param except A peer to leave out, if any.
   */
  deliver(topic: string, data: string | Uint8Array, except?: AnyPeer): void {
    const set = this.#topics.get(topic);
    if (!set) return;
    const native = this.#native;
    if (native) {
      const to = except && set.has(except) ? set.size - 1 : set.size;
      if (to === 0) return; // nobody else listens
      native.publish(topic, data, except?.socket);
      const sent = this.#sent;
      if (sent) {
        sent.sentMessages += to;
        sent.sentBytes += to * data.length;
      }
      return;
    }
    for (const peer of set) {
      if (peer !== except) peer.send(data);
    }
  }

  /** Local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /** Topics with at least one local subscriber. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Local subscribers per topic. */
  subscribers(): Record<string, number> {
    // Defined, not assigned: a client may name a topic "__proto__", which assignment would
    // drop on Bun (Deno has no __proto__ accessor), and the metrics sum these counts.
    return Object.fromEntries(Array.from(this.#topics, ([topic, set]) => [topic, set.size]));
  }
}
