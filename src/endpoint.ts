/**
 * The runtime-neutral core of a WebSocket endpoint: the upgrade decision, the peer
 * lifecycle, hook dispatch with error containment, and graceful shutdown. Both adapters
 * create one `Endpoint` and feed it their runtime's events.
 *
 * @module
 */

import type { NativeFanout, SocketDriver } from "./adapter.ts";
import { checkHandshake, offeredProtocols, refuse } from "./handshake.ts";
import type {
  EndpointOptions,
  Hooks,
  LimitStats,
  Message,
  SendData,
  ServerStats,
  UpgradeAccept,
  WebSocketEndpoint,
} from "./hooks.ts";
import { Hub } from "./hub.ts";
import {
  LimitError,
  type Limits,
  messageSize,
  newCounters,
  resolveLimits,
  TokenBucket,
} from "./limits.ts";
import {
  checkClose,
  CLOSED,
  CLOSING,
  type PeerContext,
  type PeerInit,
  ServerPeer,
  toFrame,
} from "./peer.ts";

/** An upgrade the core has accepted: what the peer starts with, and extra response headers. */
export interface Accepted<T> {
  /** What the new peer is created with. */
  init: PeerInit<T>;
  /** Headers the upgrade hook asked for, if any. */
  headers: Headers | undefined;
}

const DEFAULT_PING = "wskit:ping";
const DEFAULT_PONG = "wskit:pong";

/** The shared core behind `serve()` and both mountable handlers. */
export class Endpoint<T> implements WebSocketEndpoint<T>, PeerContext {
  /** Topic membership and fan-out. */
  readonly hub: Hub;
  /** The limits, with defaults applied. */
  readonly limits: Limits;
  /** What the limits have done. */
  readonly counters: LimitStats = newCounters();
  #hooks: Hooks<T>;
  #peers = new Map<string, ServerPeer<T>>();
  #pending = new Set<ServerPeer<T>>();
  #closeHooks = new Set<Promise<unknown>>();
  #ping: string | undefined;
  #pong: string;
  #closeTimeout: number;
  #closing: Promise<void> | undefined;
  #closeCode = 1001;
  #closeReason = "";
  #idleWaiters: (() => void)[] = [];

  /**
   * @param hooks The application's hooks.
   * @param options Endpoint options.
   * @param native The runtime's own topic fan-out, if any.
   * @param topicPrefix Namespace for native topic names.
   */
  constructor(
    hooks: Hooks<T>,
    options: EndpointOptions = {},
    native?: NativeFanout,
    topicPrefix?: string,
  ) {
    this.#hooks = hooks;
    this.hub = new Hub(native, topicPrefix);
    this.limits = resolveLimits(options);
    const heartbeat = options.heartbeat ?? { ping: DEFAULT_PING, pong: DEFAULT_PONG };
    this.#ping = heartbeat ? heartbeat.ping : undefined;
    this.#pong = heartbeat ? heartbeat.pong : DEFAULT_PONG;
    this.#closeTimeout = options.closeTimeout ?? 3000;
    const relay = options.relay;
    if (relay) {
      this.hub.relay = relay;
      try {
        const started = relay.start((topic, data) => this.#relayed(topic, data));
        if (started instanceof Promise) started.catch((error) => this.#report(null, error));
      } catch (error) {
        this.#report(null, error);
      }
    }
    hooks.start?.(this);
  }

  /** A publish from another instance: the hooks may claim it, else the local subscribers get it. */
  #relayed(topic: string, data: string | Uint8Array): void {
    const claim = this.#hooks.relayed;
    if (claim) {
      try {
        if (claim(topic, data)) return;
      } catch (error) {
        this.#report(null, error);
        return;
      }
    }
    this.hub.deliver(topic, data);
  }

  get peers(): ReadonlyMap<string, ServerPeer<T>> {
    return this.#peers;
  }

  /** Whether `close()` has been called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  stats(): ServerStats {
    let queuedBytes = 0;
    let slowPeers = 0;
    for (const peer of this.#peers.values()) {
      const queued = peer.bufferedAmount;
      queuedBytes += queued;
      if (queued > this.limits.backpressureLimit) slowPeers++;
    }
    const c = this.counters;
    return {
      peers: this.#peers.size,
      topics: this.hub.topicCount,
      subscribers: this.hub.subscribers(),
      queuedBytes,
      slowPeers,
      dropped: c.dropped,
      closed: { ...c.closed },
      refused: { ...c.refused },
      ...(this.hub.relay ? { relay: this.hub.relay.stats() } : {}),
    };
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
    if (this.#closing) return shuttingDown();
    const malformed = checkHandshake(request);
    if (malformed) {
      this.counters.refused.malformed++;
      return malformed;
    }
    const origin = request.headers.get("origin");
    if (origin !== null && !this.limits.origin(origin, request)) {
      this.counters.refused.origin++;
      return refuse(403, `Forbidden: origin ${origin} may not open a WebSocket here`);
    }
    const full = this.#atCapacity();
    if (full) return full;
    const protocols = offeredProtocols(request);
    const url = request.url; // parsed by the peer on first use
    const headers = new Headers(request.headers);
    let accept: UpgradeAccept<T> = {};
    const hook = this.#hooks.upgrade;
    if (hook) {
      let result;
      try {
        result = await hook(request, { remoteAddress, protocols });
      } catch (error) {
        if (error instanceof Response) return error;
        this.#report(null, error);
        return refuse(500, "Internal Server Error: the upgrade hook failed");
      }
      if (result instanceof Response) return result;
      if (this.#closing) return shuttingDown();
      const full = this.#atCapacity();
      if (full) return full;
      if (result) accept = result;
    }
    const protocol = accept.protocol ?? "";
    if (protocol !== "" && !protocols.includes(protocol)) {
      this.#report(
        null,
        new TypeError(
          `Cannot accept subprotocol "${protocol}": the client offered ${
            protocols.length ? protocols.map((p) => `"${p}"`).join(", ") : "none"
          }`,
        ),
      );
      return refuse(500, "Internal Server Error: the server chose a subprotocol not offered");
    }
    return {
      init: { data: accept.data as T, url, headers, remoteAddress, protocol },
      headers: accept.headers === undefined ? undefined : new Headers(accept.headers),
    };
  }

  #atCapacity(): Response | undefined {
    const max = this.limits.maxConnections;
    if (this.#peers.size + this.#pending.size < max) return undefined;
    this.counters.refused.capacity++;
    return refuse(503, `Service Unavailable: the server holds its maximum of ${max} connections`);
  }

  /** Creates the peer of an accepted upgrade; it counts as pending until it opens. */
  createPeer(init: PeerInit<T>, socket: SocketDriver): ServerPeer<T> {
    const peer = new ServerPeer(init, socket, this);
    this.#pending.add(peer);
    return peer;
  }

  /** Forgets a peer whose upgrade the runtime refused after all. */
  abandon(peer: ServerPeer<T>): void {
    this.#pending.delete(peer);
    peer.markClosed();
    this.#checkIdle();
  }

  /** The runtime reports the connection open. */
  opened(peer: ServerPeer<T>): void {
    this.#pending.delete(peer);
    peer.markOpen();
    this.#peers.set(peer.id, peer);
    const rate = this.limits.rate;
    if (rate) peer.bucket = new TokenBucket(rate, performance.now());
    const hook = this.#hooks.open;
    if (hook) this.#run(peer, () => hook(peer));
    if (this.#closing) peer.close(this.#closeCode, this.#closeReason);
  }

  /** The runtime delivers a message. */
  received(peer: ServerPeer<T>, message: Message): void {
    if (peer.readyState === CLOSED) return; // aborted by a limit; the runtime lags behind
    const max = this.limits.maxPayload;
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
    // Called here rather than through #run: no closures allocated per message.
    try {
      const result = hook(peer, message);
      if (result instanceof Promise) result.then(undefined, (e) => this.#failed(peer, e));
    } catch (error) {
      this.#failed(peer, error);
    }
  }

  /** A message hook failed: report it and close the peer with 1011, as #run does. */
  #failed(peer: ServerPeer<T>, error: unknown): void {
    this.#report(peer, error);
    if (peer.readyState < CLOSING) peer.close(1011, "Internal error");
  }

  #rateLimited(peer: ServerPeer<T>): void {
    if (this.limits.rate!.close) {
      this.counters.closed.rateLimit++;
      // abort: Deno sends no close frame while the peer keeps sending, so the hook would
      // otherwise see 1006; this way it sees the real cause on both runtimes.
      peer.abort(1008, "Rate limit exceeded");
      return;
    }
    this.counters.refused.rateLimit++;
    this.#report(
      peer,
      new LimitError("Cannot accept the message: the peer is over its rate limit", 1008),
    );
  }

  /** The runtime reports the connection closed; runs the close hook exactly once. */
  closed(peer: ServerPeer<T>, code: number, reason: string): void {
    this.#pending.delete(peer);
    if (!peer.markClosed()) return;
    const sent = peer.sentClose;
    if (sent && code === 1006) ({ code, reason } = sent);
    if (this.#peers.delete(peer.id)) {
      const hook = this.#hooks.close;
      if (hook) {
        const done = this.#settle(peer, () => hook(peer, { code, reason }), false);
        if (done) {
          this.#closeHooks.add(done);
          done.then(() => {
            this.#closeHooks.delete(done);
            this.#checkIdle();
          });
        }
      }
    }
    this.#checkIdle();
  }

  /** The runtime reports that a peer's outbound buffer has drained. */
  drained(peer: ServerPeer<T>): void {
    const hook = this.#hooks.drain;
    if (hook) this.#run(peer, () => hook(peer));
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
      this.#report(null, error);
    }
  }

  async #shutdown(code: number, reason: string): Promise<void> {
    this.#closeCode = code;
    this.#closeReason = reason;
    for (const peer of this.#peers.values()) peer.close(code, reason);
    if (await this.#waitIdle(this.#closeTimeout)) return;
    // Peers that did not finish the closing handshake in time are dropped; if the runtime
    // then still reports nothing, their close hooks run with 1006 all the same.
    for (const peer of [...this.#peers.values(), ...this.#pending]) peer.terminate();
    if (await this.#waitIdle(1000)) return;
    for (const peer of [...this.#peers.values(), ...this.#pending]) {
      this.closed(peer, 1006, "Server shutting down");
    }
    await Promise.all(this.#closeHooks);
  }

  #isIdle(): boolean {
    return this.#peers.size === 0 && this.#pending.size === 0 && this.#closeHooks.size === 0;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #waitIdle(ms: number): Promise<boolean> {
    if (this.#isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idleWaiters.push(wake);
    });
  }

  /** Runs a hook; a throw or rejection is reported and closes the peer with 1011. */
  #run(peer: ServerPeer<T>, fn: () => unknown): void {
    this.#settle(peer, fn, true);
  }

  /**
   * Runs a hook and contains its failure.
   *
   * @returns A promise that settles when an asynchronous hook has finished, else undefined.
   */
  #settle(
    peer: ServerPeer<T>,
    fn: () => unknown,
    closeOnError: boolean,
  ): Promise<void> | undefined {
    const fail = (error: unknown) => {
      this.#report(peer, error);
      if (closeOnError && peer.readyState < CLOSING) peer.close(1011, "Internal error");
    };
    try {
      const result = fn();
      if (result instanceof Promise) return result.then(() => {}, fail);
    } catch (error) {
      fail(error);
    }
    return undefined;
  }

  /** Hands an error to the error hook, or to the console when there is none or it fails. */
  #report(peer: ServerPeer<T> | null, error: unknown): void {
    const hook = this.#hooks.error;
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

function shuttingDown(): Response {
  return refuse(503, "Service Unavailable: the server is shutting down");
}
