/**
 * What the session layer does with a client's frames once its session is attached: checks
 * each against the wire format (every field comes from someone who may be hostile), accepts
 * sequenced frames in order, handles them one at a time, and confirms each once handled and
 * recorded. Also fills a client's gap from the store. Internal.
 *
 * @module
 */

import type { ClientFrame, Position } from "./wire.ts";
import { RemoteError } from "./errors.ts";
import type { AnyProtocol } from "./types.ts";
import type { Core } from "./_core.ts";
import { quote } from "./_limits.ts";
import { type Handling, type Link, ownStream, roomStream, type ServerSession } from "./_session.ts";

type AnySession<T> = ServerSession<AnyProtocol, T>;
type Sequenced = Extract<ClientFrame, { q: number }>;
type Handler = (session: AnySession<unknown>, payload: unknown) => unknown;

/** A handler table keyed by own properties only: `constructor` or `__proto__` find nothing. */
export function handlerTable(handlers: object | undefined): Map<string, Handler> {
  const table = new Map<string, Handler>();
  if (!handlers) return table;
  for (const name of Object.keys(handlers)) {
    const fn = (handlers as Record<string, unknown>)[name];
    if (typeof fn === "function") table.set(name, fn as Handler);
  }
  return table;
}

/** Whether `p` is a stream position as the wire carries it. */
export function isPosition(p: unknown): p is Position {
  return Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && p[0].length <= 64 &&
    Number.isSafeInteger(p[1]) && p[1] >= 0;
}

/**
 * Checks a frame's fields against its type.
 *
 * @returns Why it is malformed, or `undefined`.
 */
export function malformed(frame: ClientFrame): string | undefined {
  const f = frame as Record<string, unknown>;
  switch (frame.t) {
    case "e":
    case "r":
      return typeof f.e === "string" ? undefined : "an event name is text";
    case "j":
    case "l":
    case "y":
      return typeof f.r === "string" ? undefined : "a room name is text";
    case "res":
      return Number.isSafeInteger(f.i) ? undefined : "an answer names its request";
    case "g":
      return typeof f.s === "string" && isPosition(f.p) ? undefined : "a gap names its stream";
    case "hello":
    case "bye":
      return undefined;
    default:
      return `unknown frame type ${quote((frame as { t: unknown }).t)}`;
  }
}

/** The session layer's handling of attached sessions' frames. */
export class Dispatch<T> {
  #core: Core<T>;
  #events: Map<string, Handler>;
  #requests: Map<string, Handler>;

  constructor(core: Core<T>) {
    this.#core = core;
    this.#events = handlerTable(core.options.events);
    this.#requests = handlerTable(core.options.requests);
  }

  /**
   * A sequenced frame of an attached session: dropped when already seen, refused out of
   * order or past the unconfirmed bound, else queued for handling.
   *
   * @returns Why the connection must close, or `undefined`.
   */
  accept(session: AnySession<T>, frame: Sequenced, size: number): string | undefined {
    const core = this.#core;
    const q = frame.q;
    if (!Number.isSafeInteger(q)) return "Cannot read the frame: no sequence number";
    if (q <= session.lastSeq) {
      // A resend of something already received: drop it, confirm again once durable.
      core.counts.duplicates++;
      if (q <= session.durable) session.acked = Math.min(session.acked, q - 1);
      core.acks.schedule(session);
      return undefined;
    }
    if (q !== session.lastSeq + 1) {
      return `Cannot accept frame ${q}: expected ${session.lastSeq + 1}`;
    }
    const limits = core.limits;
    if (
      session.sizes.count >= limits.maxUnconfirmed ||
      session.sizes.bytes + size > limits.maxUnconfirmedBytes
    ) {
      return `Cannot hold more unconfirmed frames: at most ${limits.maxUnconfirmed}`;
    }
    session.lastSeq = q;
    session.sizes.push(size);
    if (frame.t === "res") {
      // An answer runs no handler: it never waits behind one (which may be waiting for it).
      const pending = session.pending?.get(frame.i);
      if (pending) {
        if (frame.err) pending.reject(RemoteError.from(frame.err));
        else pending.resolve(frame.d);
      }
      core.acks.complete(session, q, session.generation);
      return undefined;
    }
    session.queue.push(frame);
    if (!session.handling) this.#pump(session);
    return undefined;
  }

  /** Handles queued frames one at a time; synchronous handlers run in one loop. */
  #pump(session: AnySession<T>): void {
    while (!session.handling && session.queue.length > 0 && !session.ended) {
      const frame = session.queue.shift()!;
      const ctx: Handling = {
        sid: session.sid,
        q: frame.q,
        writes: 0,
        pending: undefined,
        generation: session.generation,
      };
      session.handling = ctx;
      const core = this.#core;
      core.current = ctx;
      let running: Promise<unknown> | undefined;
      try {
        running = this.#invoke(session, frame);
      } finally {
        core.current = undefined;
      }
      if (running) {
        running.then(() => {
          this.#finish(session, ctx);
          this.#pump(session);
        });
        return;
      }
      this.#finish(session, ctx);
    }
  }

  #finish(session: AnySession<T>, ctx: Handling): void {
    if (ctx.generation !== session.generation) return;
    session.handling = undefined;
    const core = this.#core;
    if (!ctx.pending) return core.acks.complete(session, ctx.q, ctx.generation);
    Promise.all(ctx.pending).then(
      () => core.acks.complete(session, ctx.q, ctx.generation),
      (error) => core.acks.broken(session, error, ctx.generation),
    );
  }

  /**
   * Runs the handler of one frame. Every failure is contained here.
   *
   * @returns A promise when the handling goes on asynchronously (it never rejects).
   */
  #invoke(session: AnySession<T>, frame: Sequenced): Promise<unknown> | undefined {
    const core = this.#core;
    switch (frame.t) {
      case "e": {
        const handler = this.#events.get(frame.e);
        if (!handler) {
          core.report(session, new TypeError(`Cannot handle event ${quote(frame.e)}: no handler`));
          return undefined;
        }
        try {
          const result = handler(session as AnySession<unknown>, frame.d);
          if (result instanceof Promise) return result.catch((e) => core.report(session, e));
        } catch (error) {
          core.report(session, error);
        }
        return undefined;
      }
      case "r": {
        const handler = this.#requests.get(frame.e);
        if (!handler) {
          core.fail(session, frame.q, {
            name: "RemoteError",
            message: `Cannot answer ${quote(frame.e)}: the server has no handler for it`,
            code: "unknown_request",
          });
          return undefined;
        }
        return this.#answer(
          session,
          frame.q,
          () => handler(session as AnySession<unknown>, frame.d),
        );
      }
      case "j":
        return this.#answer(session, frame.q, () => this.#join(session, frame.r, frame.d), true);
      case "y":
        return this.#answer(session, frame.q, () => this.#update(session, frame.r, frame.d));
      case "l":
        session.leave(frame.r);
        core.respond(session, frame.q, null);
        return undefined;
    }
    return undefined;
  }

  /**
   * Authorizes a join, then records its presence (with presence on), then subscribes, then
   * reads where the room stands (in that order).
   */
  #join(session: AnySession<T>, room: string, data: unknown): unknown {
    const core = this.#core;
    if (!session.rooms.has(room)) core.checkJoin(session, room);
    const authorize = core.options.join;
    const subscribe = () => {
      // Subscribed before the position is read: every publish after it reaches this client.
      session.join(room);
      core.presence?.greet(session, room);
      return core.store.position(roomStream(room));
    };
    const enter = (ok: boolean) => {
      if (!ok) {
        throw new RemoteError(`Cannot join ${quote(room)}: not allowed`, { code: "forbidden" });
      }
      return core.presence ? core.presence.admit(session, room, data).then(subscribe) : subscribe();
    };
    const verdict = authorize ? authorize(session as never, room) : true;
    return verdict instanceof Promise ? verdict.then(enter) : enter(verdict);
  }

  /** A client's new presence data for a room it is in. */
  #update(session: AnySession<T>, room: string, data: unknown): Promise<null> {
    const presence = this.#core.presence;
    if (!presence || !session.rooms.has(room)) {
      const why = presence ? "not in the room" : "presence is off";
      throw new RemoteError(`Cannot show presence in ${quote(room)}: ${why}`, {
        code: presence ? "not_in_room" : "no_presence",
      });
    }
    return presence.admit(session, room, data).then(() => {
      this.#core.persist(session, session.handling);
      return null;
    });
  }

  /**
   * Runs a request handler and answers with its result or its error. A result that cannot
   * be encoded answers "Internal error" and reaches the error hook.
   */
  #answer(
    session: AnySession<T>,
    id: number,
    fn: () => unknown,
    isJoin = false,
  ): Promise<unknown> | undefined {
    const respond = (value: unknown) => {
      try {
        if (isJoin) this.#core.respond(session, id, null, value);
        else this.#core.respond(session, id, value ?? null);
      } catch (error) {
        this.#fail(session, id, error);
      }
    };
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      this.#fail(session, id, error);
      return undefined;
    }
    if (!(result instanceof Promise)) return void respond(result);
    const ctx = this.#core.current;
    return result.then(
      (value) => this.#as(ctx, () => respond(value)),
      (error) => this.#as(ctx, () => this.#fail(session, id, error)),
    );
  }

  /** Runs `fn` as part of `ctx`, so that its writes count for the frame. */
  #as(ctx: Handling | undefined, fn: () => void): void {
    const core = this.#core;
    core.current = ctx;
    try {
      fn();
    } finally {
      core.current = undefined;
    }
  }

  #fail(session: AnySession<T>, id: number, error: unknown): void {
    const core = this.#core;
    if (error instanceof RemoteError) {
      try {
        return core.fail(session, id, error.toBody());
      } catch (e) {
        error = e; // a code or message that cannot be encoded: an internal error after all
      }
    }
    if (isStoreFailure(error)) {
      const ctx = core.current ?? session.handling;
      if (ctx) (ctx.pending ??= []).push(Promise.reject(error));
      return;
    }
    core.report(session, error);
    core.fail(session, id, { name: "RemoteError", message: "Internal error", code: "internal" });
  }

  /** A client asks for the entries of a stream after its position: a gap it cannot fill. */
  async fill(link: Link<T>, stream: string, from: Position): Promise<void> {
    const session = link.session;
    if (!session || link.filling) return;
    if (stream !== "" && !session.rooms.has(stream)) return;
    const core = this.#core;
    link.filling = true;
    core.counts.fills++;
    try {
      const key = stream === "" ? ownStream(session.sid) : roomStream(stream);
      const frames = await core.store.since(key, from);
      const peer = link.peer;
      if (session.link !== link || peer.readyState !== 1) return;
      const s = JSON.stringify(stream);
      if (frames === null) {
        const [, last] = await core.store.position(key);
        peer.send(`["u",${s},${last}]`);
        return;
      }
      for (const text of frames) peer.send(text);
      peer.send(`["p",${s},${from[1] + frames.length}]`);
    } finally {
      link.filling = false;
    }
  }
}

/** Whether an error came from the store (a join's position read), not from a handler. */
function isStoreFailure(error: unknown): boolean {
  return error instanceof Error && (error as { transient?: unknown }).transient === true;
}
