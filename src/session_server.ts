/**
 * The session layer, server side: typed events and requests, rooms that clients join, and
 * reconnects that lose nothing within a window. `sessions()` turns a protocol's handlers
 * into ordinary wskit hooks, so it runs on `serve()` and both mountable handlers.
 *
 * A session outlives its connections. Every message to it carries an offset in its stream
 * (its own, or a room's); a reconnecting client names its last offsets and the server
 * replays the gap from a bounded log, or answers `recovered: false`. Every message from the
 * client carries a sequence number and is processed once: resent duplicates are dropped.
 *
 * @example A typed chat
 * ```ts ignore
 * import { serve } from "jsr:@wskit/wskit";
 * import { type Protocol, sessions } from "jsr:@wskit/wskit/session";
 *
 * interface Chat extends Protocol {
 *   clientEvents: { say: { text: string } };
 *   serverEvents: { said: { from: string; text: string } };
 *   clientRequests: { whoami: { payload: null; result: string } };
 *   serverRequests: Record<never, never>;
 * }
 *
 * const app = sessions<Chat, { user: string }>({
 *   upgrade: (request) => ({ data: { user: new URL(request.url).searchParams.get("user") ?? "?" } }),
 *   identify: (data) => data.user,
 *   join: (_session, room) => room === "lobby",
 *   events: {
 *     say(session, { text }) {
 *       app.publish("lobby", "said", { from: session.data.user, text });
 *     },
 *   },
 *   requests: { whoami: (session) => session.data.user },
 * });
 * await serve(app.hooks, { port: 8000 });
 * ```
 *
 * @module
 */

import type { Hooks } from "./hooks.ts";
import type { Peer } from "./peer.ts";
import { type ClientFrame, parseFrame, type Position, SUBPROTOCOL, VERSION } from "./protocol.ts";
import {
  Core,
  type Link,
  ownStream,
  RELAYED_ROOM,
  roomStream,
  roomTopic,
  ServerSession,
  TAKEN,
} from "./_session_core.ts";
import type { Session, SessionOptions, SessionServer } from "./session_api.ts";
import { RemoteError } from "./session_errors.ts";
import type { AnyProtocol, Protocol } from "./session_types.ts";

export type {
  EndReason,
  EventHandlers,
  RequestHandlers,
  Session,
  SessionOptions,
  SessionPublishOptions,
  SessionServer,
  SessionStats,
} from "./session_api.ts";
export { RemoteError } from "./session_errors.ts";
export { MemoryStore } from "./session_store.ts";
export type { ErrorBody, Position } from "./protocol.ts";
export type {
  Awaitable,
  CloseDetails,
  Hooks,
  LimitStats,
  Message,
  SendData,
  SendStatus,
  ServerStats,
  UpgradeAccept,
  UpgradeInfo,
  UpgradeResult,
  WebSocketEndpoint,
} from "./hooks.ts";
export type { Peer, PublishOptions } from "./peer.ts";
export type { LogWindow, Maybe, SessionRecord, SessionStore } from "./session_store.ts";
export type {
  AnyProtocol,
  EventName,
  Protocol,
  RequestOptions,
  RequestShape,
} from "./session_types.ts";

export type { Relay, RelayDeliver, RelayStats } from "./relay.ts";

/**
 * Creates the session layer for a protocol: pass its `hooks` to `serve()` or a
 * `createHandler()`. Clients connect with `SessionClient` from `@wskit/wskit/session-client`;
 * plain WebSocket clients get the `plain` hooks, or `426` without them.
 *
 * @typeParam P The protocol, shared with the client code.
 * @typeParam T The per-session data type, from the upgrade hook.
 * @param options Handlers, authorization, window and store.
 * @returns The hooks, the live sessions, `publish` to a room and `close`.
 */
export function sessions<P extends Protocol = AnyProtocol, T = unknown>(
  options: SessionOptions<P, T> = {},
): SessionServer<P, T> {
  const opts = options as unknown as SessionOptions<AnyProtocol, T>;
  const core = new Core<T>(opts);
  const plain = opts.plain;
  const identify = opts.identify ?? (() => "");
  const helloTimeout = opts.helloTimeout ?? 10_000;

  function protocolError(peer: Peer<T>, why: string): void {
    if (peer.readyState < 2) peer.close(1002, why.slice(0, 120));
  }

  async function hello(link: Link<T>, frame: Extract<ClientFrame, { t: "hello" }>): Promise<void> {
    const peer = link.peer;
    if (frame.v !== VERSION) {
      return protocolError(
        peer,
        `Cannot speak protocol version ${frame.v}: this server speaks ${VERSION}`,
      );
    }
    const identity = identify(peer.data);
    const sid = typeof frame.sid === "string" ? frame.sid : undefined;
    let claimed = sid === undefined ? undefined : core.bySid.get(sid);
    if (!claimed && sid !== undefined && core.store.loadSession) {
      // Created on another instance: resume it here from the shared store.
      const record = await core.store.loadSession(sid);
      if (record && record.identity === identity && !core.bySid.has(sid)) {
        claimed = new ServerSession<AnyProtocol, T>(core, identity, record.data as T, record);
        claimed.expiresAt = Date.now() + core.maxAge; // until this connection attaches
        core.bySid.set(claimed.sid, claimed);
        core.byId.set(claimed.id, claimed);
        core.startSweeping();
        core.endpoint?.publish(TAKEN, claimed.sid);
      }
    }
    // A session id of another identity resumes nothing: it is treated as unknown.
    const resumed = claimed !== undefined && !claimed.ended && claimed.identity === identity;
    const session = resumed
      ? claimed!
      : new ServerSession<AnyProtocol, T>(core, identity, peer.data);
    const previous = session.link;
    if (previous) {
      // The client came back before its old connection was noticed dead.
      previous.session = undefined;
      if (previous.peer.readyState < 2) previous.peer.close(4000, "Session resumed elsewhere");
    }
    const streams: Record<string, Position> = {};
    const own = ownStream(session.sid);
    const names = ["", ...session.rooms];
    const positions = await Promise.all(
      names.map((name) => core.store.position(name === "" ? own : roomStream(name))),
    );
    names.forEach((name, i) => streams[name] = positions[i]!);
    let replay: string[] = [];
    let recovered = false;
    if (resumed) {
      const theirs = frame.streams ?? {};
      const gaps = await Promise.all(names.map((name) => {
        const from = theirs[name];
        if (!Array.isArray(from)) return name === "" ? null : [];
        return core.store.since(name === "" ? own : roomStream(name), from);
      }));
      recovered = gaps.every((g) => g !== null);
      if (recovered) replay = gaps.flat() as string[];
    }
    if (peer.readyState !== 1 || link.session !== undefined) return;
    if (!resumed) {
      core.bySid.set(session.sid, session);
      core.byId.set(session.id, session);
    }
    core.persist(session);
    link.session = session;
    session.link = link;
    if (resumed) core.counts.resumed++;
    if (recovered) core.counts.recovered++;
    core.counts.replayed += replay.length;
    session.expiresAt = Infinity;
    session.acked = session.lastSeq;
    peer.send(JSON.stringify({
      t: "welcome",
      v: VERSION,
      sid: session.sid,
      pid: session.id,
      recovered,
      q: session.lastSeq,
      streams,
      n: replay.length,
    }));
    for (const text of replay) peer.send(text);
    for (const room of session.rooms) peer.subscribe(roomTopic(room));
    const connect = opts.connect;
    if (connect) core.run(session, () => connect(session, { resumed, recovered }));
    const waiting = link.waiting;
    link.waiting = undefined;
    for (const text of waiting ?? []) handle(link, text);
  }

  function handle(link: Link<T>, text: string): void {
    if (link.waiting) {
      link.waiting.push(text);
      return;
    }
    const peer = link.peer;
    const frame = parseFrame<ClientFrame>(text);
    if (!frame) return protocolError(peer, "Cannot read the frame: not a session frame");
    const session = link.session;
    if (!session) {
      if (frame.t !== "hello") return protocolError(peer, "Cannot proceed: expected hello first");
      clearTimeout(link.helloTimer);
      link.waiting = [];
      hello(link, frame).catch((error) => {
        core.report(null, error);
        link.waiting = undefined;
        if (peer.readyState < 2) peer.close(1011, "Session handshake failed");
      });
      return;
    }
    if (frame.t === "bye") {
      core.end(session, "closed");
      return;
    }
    if (frame.t === "hello") return protocolError(peer, "Cannot say hello twice");
    const q = (frame as { q?: unknown }).q;
    if (typeof q !== "number" || !Number.isInteger(q)) {
      return protocolError(peer, "Cannot read the frame: no sequence number");
    }
    if (q <= session.lastSeq) {
      // A resend of something already processed: drop it, confirm again.
      core.counts.duplicates++;
      session.acked = 0;
      core.scheduleAck(session);
      return;
    }
    if (q !== session.lastSeq + 1) {
      return protocolError(peer, `Cannot accept frame ${q}: expected ${session.lastSeq + 1}`);
    }
    session.lastSeq = q;
    core.scheduleAck(session);
    dispatch(session, frame);
  }

  function dispatch(session: ServerSession<AnyProtocol, T>, frame: ClientFrame): void {
    switch (frame.t) {
      case "e": {
        const handler = opts.events?.[frame.e];
        if (!handler) {
          core.report(session, new TypeError(`Cannot handle event "${frame.e}": no handler`));
          return;
        }
        core.run(session, () => handler(session, frame.d));
        return;
      }
      case "r": {
        const handler = opts.requests?.[frame.e];
        if (!handler) {
          core.fail(session, frame.q, {
            name: "RemoteError",
            message: `Cannot answer "${frame.e}": the server has no handler for it`,
            code: "unknown_request",
          });
          return;
        }
        answer(session, frame.q, () => handler(session, frame.d));
        return;
      }
      case "j": {
        const room = frame.r;
        const authorize = opts.join;
        answer(session, frame.q, async () => {
          if (typeof room !== "string" || room === "") {
            throw new RemoteError("Cannot join: the room name is empty", { code: "bad_room" });
          }
          const ok = authorize ? await authorize(session, room) : true;
          if (!ok) {
            throw new RemoteError(`Cannot join "${room}": not allowed`, { code: "forbidden" });
          }
          const pos = await core.store.position(roomStream(room));
          session.join(room);
          return pos;
        }, true);
        return;
      }
      case "l":
        session.leave(frame.r);
        core.respond(session, frame.q, null);
        return;
      case "res": {
        const pending = session.pending.get(frame.i);
        if (!pending) return; // answered after its timeout, or after an abort
        if (frame.err) pending.reject(RemoteError.from(frame.err));
        else pending.resolve(frame.d);
        return;
      }
    }
  }

  /**
   * Runs a request handler and answers with its result or its error. For a join the result
   * is the room's position, sent as `pos` so that the client starts counting from it.
   */
  function answer(
    session: ServerSession<AnyProtocol, T>,
    id: number,
    fn: () => unknown,
    isJoin = false,
  ): void {
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      return void fail(session, id, error);
    }
    Promise.resolve(result).then(
      (value) => {
        if (isJoin) core.respond(session, id, null, value as Position);
        else core.respond(session, id, value ?? null);
      },
      (error) => fail(session, id, error),
    );
  }

  function fail(session: ServerSession<AnyProtocol, T>, id: number, error: unknown): void {
    if (error instanceof RemoteError) {
      core.fail(session, id, error.toBody());
      return;
    }
    core.report(session, error);
    core.fail(session, id, { name: "RemoteError", message: "Internal error", code: "internal" });
  }

  const hooks: Hooks<T> = {
    upgrade: async (request, info) => {
      const result = opts.upgrade ? await opts.upgrade(request, info) : undefined;
      if (result instanceof Response) return result;
      if (!info.protocols.includes(SUBPROTOCOL)) {
        if (!plain) {
          return new Response(
            `Upgrade Required: this endpoint speaks the ${SUBPROTOCOL} subprotocol`,
            { status: 426, headers: { "sec-websocket-protocol": SUBPROTOCOL } },
          );
        }
        return result;
      }
      return { ...(result ?? {}), protocol: SUBPROTOCOL };
    },
    start(endpoint) {
      core.endpoint = endpoint;
      plain?.start?.(endpoint);
    },
    relayed(topic, data) {
      if (typeof data === "string") {
        if (topic === TAKEN) {
          core.takenOver(data);
          return true;
        }
        if (topic.startsWith(RELAYED_ROOM)) {
          core.relayedRoom(topic.slice(RELAYED_ROOM.length), data);
          return true;
        }
      }
      return plain?.relayed?.(topic, data) ?? false;
    },
    async stop() {
      await core.close();
      await plain?.stop?.();
    },
    open(peer) {
      if (peer.protocol !== SUBPROTOCOL) return plain?.open?.(peer);
      const link: Link<T> = { peer, session: undefined, helloTimer: undefined, waiting: undefined };
      link.helloTimer = setTimeout(
        () => protocolError(peer, `Cannot wait longer than ${helloTimeout} ms for hello`),
        helloTimeout,
      );
      core.links.set(peer, link);
    },
    message(peer, message) {
      const link = core.links.get(peer);
      if (!link) return plain?.message?.(peer, message);
      if (typeof message !== "string") {
        if (peer.readyState < 2) {
          peer.close(1003, "Cannot read binary frames: the session protocol is text");
        }
        return;
      }
      handle(link, message);
    },
    close(peer, details) {
      const link = core.links.get(peer);
      if (!link) return plain?.close?.(peer, details);
      clearTimeout(link.helloTimer);
      core.links.delete(peer);
      const session = link.session;
      if (!session || session.link !== link) return;
      session.link = undefined;
      clearTimeout(session.ackTimer);
      session.ackTimer = undefined;
      session.expiresAt = Date.now() + core.maxAge;
      core.persist(session, core.maxAge);
      core.startSweeping();
      const hook = opts.disconnect;
      if (hook) return core.run(session, () => hook(session, details)).then(() => {});
    },
    error(peer, error) {
      const link = peer ? core.links.get(peer) : undefined;
      if (peer && !link && plain?.error) return plain.error(peer, error);
      core.report(link?.session ?? null, error);
    },
    drain(peer) {
      if (!core.links.get(peer)) return plain?.drain?.(peer);
    },
  };

  return {
    hooks,
    sessions: core.byId as unknown as ReadonlyMap<string, Session<P, T>>,
    publish: (room, event, payload) => core.toRoom(room, event, payload, undefined),
    stats() {
      let connected = 0;
      for (const session of core.bySid.values()) if (session.link) connected++;
      return { sessions: core.bySid.size, connected, ...core.counts };
    },
    close: () => core.close(),
  };
}
