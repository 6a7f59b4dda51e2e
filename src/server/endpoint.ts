/**
 * The runtime-neutral core of a WebSocket endpoint: the upgrade decision, the peer
 * lifecycle, hook dispatch with error containment, and graceful shutdown. Both adapters
 * create one `Endpoint` and feed it their runtime's events.
 *
 * @module
 */

import { Contained, IdleWatch } from "./_contained.ts";
import { countClose, counted, type Counters, newCounters, snapshot } from "./_counters.ts";
import type { NativeTopics, SocketDriver } from "./driver.ts";
import {
  checkHandshake,
  clip,
  isUpgrade,
  keptHeaders,
  noProtocolWarning,
  offeredProtocols,
  readAcceptance,
  refuse,
  shuttingDown,
  upgradeRequired,
} from "./handshake.ts";
import { Hub } from "./hub.ts";
import {
  LimitError,
  type Limits,
  messageSize,
  type Place,
  Places,
  resolveLimits,
  TokenBucket,
} from "./limits.ts";
import {
  checkClose,
  CLOSED,
  type PeerContext,
  type PeerInit,
  ServerPeer,
  toFrame,
} from "./peer.ts";
import type { EndpointOptions } from "./options.ts";
import type { ServerStats } from "./stats.ts";
import type { Hooks, Message, SendData, UpgradeAccept, WebSocketEndpoint } from "./types.ts";

/** An upgrade the core has accepted: what the peer starts with, and extra response headers. */
export interface Accepted<T> {
  /** What the new peer is created with. */
  init: PeerInit<T>;
  /** Headers the upgrade hook asked for, if any. */
  headers: Headers | undefined;
  /** The place among `maxConnections` the connection holds until it ends. */
  place: Place;
}

const DEFAULT_PING = "wskit:ping";
const DEFAULT_PONG = "wskit:pong";

/** The shared core behind `serve()` and both mountable handlers. */
export class Endpoint<T> implements WebSocketEndpoint<T>, PeerContext {
  /** Topic membership and fan-out. */
  readonly hub: Hub;
  /** The limits, with defaults applied. */
  readonly limits: Limits;
  /** What the limits have done and what went through. */
  readonly counters: Counters = newCounters();
  #hooks: Hooks<T>;
  #peers = new Map<string, ServerPeer<T>>();
  #places: Places<ServerPeer<T>>;
  #run: Contained<ServerPeer<T>>;
  #idle: IdleWatch;
  #ping: string | undefined;
  #pong: string;
  #closeTimeout: number;
  #closing: Promise<void> | undefined;
  #closeCode = 1001;
  #closeReason = "";
  #warnNoProtocol = noProtocolWarning();

  /**
   * @param hooks The application's hooks.
   * @param options Endpoint options.
   * @param native The runtime's own topic fan-out, if any.
   */
  constructor(
    hooks: Hooks<T>,
    options: EndpointOptions & { hostname?: string } = {},
    native?: NativeTopics,
  ) {
    this.#hooks = hooks;
    this.hub = new Hub(native, this.counters);
    const limits = this.limits = resolveLimits(options);
    this.#places = new Places(limits, this.counters, (peer) => this.#unopened(peer));
    this.#idle = new IdleWatch(() => this.#places.idle && this.#run.running === 0);
    this.#run = new Contained(hooks.error, () => this.#idle.check());
    const heartbeat = options.heartbeat ?? { ping: DEFAULT_PING, pong: DEFAULT_PONG };
    this.#ping = heartbeat ? heartbeat.ping : undefined;
    this.#pong = heartbeat ? heartbeat.pong : DEFAULT_PONG;
    this.#closeTimeout = options.closeTimeout ?? 3000;
    const relay = options.relay;
    if (relay) {
      this.hub.relay = relay;
      try {
        const started = relay.start(
          (topic, data) => this.#relayed(topic, data),
          () => this.#relayRestored(),
        );
        if (started instanceof Promise) {
          started.catch((error) => this.#run.report(null, error));
        }
      } catch (error) {
        this.#run.report(null, error);
      }
    }
    hooks.start?.(this);
  }

  /** A publish from another instance: the hooks may claim it, else the local subscribers get it. */
  #relayed(topic: string, data: string | Uint8Array): void {
    try {
      if (this.#hooks.relayed?.(topic, data)) return;
      this.hub.deliver(topic, data);
    } catch (error) {
      this.#run.report(null, error);
    }
  }

  /** The relay is back after an outage: the hooks may catch up on what was missed. */
  #relayRestored(): void {
    try {
      this.#hooks.relayRestored?.();
    } catch (error) {
      this.#run.report(null, error);
    }
  }

  get peers(): ReadonlyMap<string, ServerPeer<T>> {
    return this.#peers;
  }

  stats(): ServerStats {
    const { held, closing } = this.#places;
    const pending = held - this.#peers.size - closing;
    return snapshot(this.counters, this.#peers, this.hub, this.limits.backpressureBytes, {
      pending,
      closing,
    });
  }

  publish(topic: string, data: SendData, options?: { local?: boolean }): void {
    this.hub.publish(topic, toFrame(data), undefined, options?.local ?? false);
  }

  /**
   * Checks an upgrade request and runs the `upgrade` hook. Read everything needed from the
   * request before calling this: on Deno the request is unusable once upgraded.
   *
   * @returns A refusal to send as it is, or what the accepted peer starts with.
   */
  async accept(
    request: Request,
    remoteAddress: string | undefined,
  ): Promise<Response | Accepted<T>> {
    if (!isUpgrade(request)) return upgradeRequired();
    if (this.#closing) return counted(this.counters, "shutdown", shuttingDown());
    const malformed = checkHandshake(request);
    if (malformed) {
      this.counters.refused.malformed++;
      return malformed;
    }
    const origin = request.headers.get("origin");
    if (origin !== null) {
      let allowed;
      try {
        allowed = this.limits.origin(origin, request, remoteAddress);
      } catch (error) {
        return this.#failed(error, "the origin check failed");
      }
      if (!allowed) {
        this.counters.refused.origin++;
        return refuse(403, `Forbidden: origin ${clip(origin)} may not open a WebSocket here`);
      }
    }
    const address = this.limits.clientAddress(request, remoteAddress);
    const full = this.#places.refusal(address);
    if (full) return full;
    const protocols = offeredProtocols(request);
    const url = request.url; // parsed by the peer on first use
    const headers = keptHeaders(request.headers, this.limits.peerHeaders);
    let accept: UpgradeAccept<T> = {};
    const hook = this.#hooks.upgrade;
    if (hook) {
      let result;
      try {
        result = await hook(request, { remoteAddress, protocols });
      } catch (error) {
        if (error instanceof Response) return counted(this.counters, "hook", error);
        return this.#failed(error, "the upgrade hook failed");
      }
      if (result instanceof Response) return counted(this.counters, "hook", result);
      if (this.#closing) return counted(this.counters, "shutdown", shuttingDown());
      if (result) accept = result;
    }
    let answer;
    try {
      answer = readAcceptance(accept, protocols);
    } catch (error) {
      return this.#failed(error, "the upgrade hook's answer cannot be used");
    }
    // Checked again and taken at once: other upgrades ran while the hook was awaited.
    const again = this.#places.refusal(address);
    if (again) return again;
    const { protocol, headers: extra } = answer;
    this.#warnNoProtocol(protocol, protocols);
    return {
      init: { data: accept.data as T, url, headers, remoteAddress, protocol },
      headers: extra,
      place: this.#places.take(address),
    };
  }

  #failed(error: unknown, why: string): Response {
    this.counters.refused.error++;
    this.#run.report(null, error);
    return refuse(500, `Internal Server Error: ${why}`);
  }

  /** Gives back the place of an accepted upgrade that the runtime then refused. */
  release(accepted: Accepted<T>): void {
    this.#places.release(accepted.place);
    this.#idle.check();
  }

  /**
   * Creates the peer of an accepted upgrade; it counts as pending until it opens, and is given
   * up if it has not opened within `openTimeout`.
   */
  createPeer(accepted: Accepted<T>, socket: SocketDriver): ServerPeer<T> {
    const peer = new ServerPeer(accepted.init, socket, this);
    peer.place = accepted.place;
    this.#places.pend(peer);
    return peer;
  }

  /** A client that goes away before reading the 101 leaves Deno with a socket that never opens. */
  #unopened(peer: ServerPeer<T>, late = true): void {
    if (late) this.counters.closed.openTimeout++;
    drop(peer);
    this.abandon(peer);
  }

  /** Forgets a peer whose upgrade the runtime refused or that did not open in time. */
  abandon(peer: ServerPeer<T>): void {
    this.#places.ended(peer);
    peer.markClosed();
    this.#idle.check();
  }

  /** The runtime reports the connection open. */
  opened(peer: ServerPeer<T>): void {
    // Not pending: given up already (openTimeout), and the runtime opened it late after all.
    if (!this.#places.opened(peer)) return drop(peer);
    peer.markOpen();
    this.counters.opened++;
    this.#peers.set(peer.id, peer);
    const rate = this.limits.rate;
    if (rate) peer.bucket = new TokenBucket(rate, performance.now());
    const hook = this.#hooks.open;
    if (hook) this.#run.run(peer, () => hook(peer));
    if (this.#closing) peer.close(this.#closeCode, this.#closeReason);
  }

  /** The runtime delivers a message. */
  received(peer: ServerPeer<T>, message: Message): void {
    if (peer.readyState === CLOSED) return; // aborted by a limit; the runtime lags behind
    const counters = this.counters;
    counters.receivedMessages++;
    counters.receivedBytes += message.length; // bytes, or UTF-16 code units: no scan of text
    const max = this.limits.maxPayloadBytes;
    const bucket = peer.bucket;
    // Exact UTF-8 size only when a byte rate needs it or the length alone cannot clear it.
    const size = messageSize(message, bucket ? 0 : max);
    if (size > max) {
      // Bun enforces this natively; Deno has buffered the message already.
      this.counters.closed.tooBig++;
      peer.abort(1009, "Message too big");
      return;
    }
    if (bucket && !bucket.take(size, performance.now())) {
      this.#rateLimited(peer);
      return;
    }
    if (message === this.#ping) {
      peer.send(this.#pong);
      return;
    }
    const hook = this.#hooks.message;
    if (!hook) return;
    // Called here rather than through run(): no closures allocated per message.
    try {
      const result = hook(peer, message);
      if (result instanceof Promise) result.then(undefined, (e) => this.#run.failed(peer, e));
    } catch (error) {
      this.#run.failed(peer, error);
    }
  }

  #rateLimited(peer: ServerPeer<T>): void {
    if (this.limits.rate!.close) {
      this.counters.closed.rateLimit++;
      // abort: the close hook runs now with 1008, and no later message reaches the hooks.
      peer.abort(1008, "Rate limit exceeded");
      return;
    }
    this.counters.refused.rateLimit++;
    this.#run.report(
      peer,
      new LimitError("Cannot accept the message: the peer is over its rate limit", 1008),
    );
  }

  /** The runtime reports the connection closed; runs the close hook exactly once. */
  closed(peer: ServerPeer<T>, code: number, reason: string): void {
    this.#places.ended(peer);
    this.#ended(peer, code, reason);
  }

  aborted(peer: ServerPeer<T>, code: number, reason: string): void {
    // Its place stays taken until the runtime reports the end: on Deno a client that never
    // answers the close frame keeps the connection, and nothing in JS can drop it.
    this.#places.aborted(peer);
    this.#ended(peer, code, reason);
  }

  #ended(peer: ServerPeer<T>, code: number, reason: string): void {
    if (!peer.markClosed()) return;
    const sent = peer.sentClose;
    if (sent && code === 1006) ({ code, reason } = sent);
    const hook = this.#hooks.close;
    if (this.#peers.delete(peer.id)) {
      countClose(this.counters, code);
      if (hook) this.#run.track(peer, () => hook(peer, { code, reason }));
    }
    this.#idle.check();
  }

  /** The runtime reports that a peer's outbound buffer has drained. */
  drained(peer: ServerPeer<T>): void {
    const hook = this.#hooks.drain;
    if (hook) this.#run.run(peer, () => hook(peer));
  }

  close(code = 1001, reason = "Server shutting down"): Promise<void> {
    checkClose(code, reason);
    return this.#closing ??= this.#shutdown(code, reason).then(() => this.#stopHook());
  }

  async #stopHook(): Promise<void> {
    const stop = this.#hooks.stop;
    try {
      if (stop) await stop();
      await this.hub.relay?.close();
    } catch (error) {
      this.#run.report(null, error);
    }
  }

  async #shutdown(code: number, reason: string): Promise<void> {
    this.#closeCode = code;
    this.#closeReason = reason;
    // Upgrades that have not opened have no hooks to run: they are given up at once.
    for (const peer of this.#places.pending) this.#unopened(peer, false);
    for (const peer of this.#peers.values()) peer.close(code, reason);
    if (await this.#idle.wait(this.#closeTimeout)) return;
    // Peers that did not finish the closing handshake in time are dropped; if the runtime
    // then still reports nothing, their close hooks run with 1006 all the same.
    for (const peer of this.#peers.values()) peer.terminate();
    // Deno never reports a dropped socket: waiting longer than the close timeout itself would
    // make a short timeout pointless.
    if (await this.#idle.wait(Math.min(1000, this.#closeTimeout))) return;
    for (const peer of [...this.#peers.values()]) this.closed(peer, 1006, "Server shutting down");
    for (const peer of this.#places.pending) this.#unopened(peer, false);
    await this.#run.finished();
  }
}

/** Drops a peer's connection at the runtime, whatever state the core has it in. */
function drop(peer: ServerPeer<unknown>): void {
  try {
    peer.socket.terminate();
  } catch { /* never made, or gone already */ }
}
