/**
 * The session layer, server side: typed events and requests, rooms that clients join, and
 * reconnects that lose nothing within a window. `sessions()` turns a protocol's handlers
 * into ordinary wskit hooks, so it runs on `serve()` and both mountable handlers.
 *
 * A session outlives its connections. Every message to it carries an offset in its stream
 * (its own, or a room's); a reconnecting client names its last offsets and the server
 * replays the gap from a bounded log, or answers `recovered: false`. Every message from the
 * client is numbered in its order on the session and processed once: resent duplicates are
 * dropped.
 *
 * @example A typed chat
 * ```ts
 * import { serve } from "@wskit/wskit";
 * import { sessions } from "@wskit/wskit/session";
 * import type { Protocol } from "@wskit/wskit/protocol";
 *
 * interface Chat extends Protocol {
 *   clientEvents: { say: { text: string } };
 *   serverEvents: { said: { from: string; text: string } };
 *   clientRequests: { whoami: { payload: null; result: string } };
 *   serverRequests: Record<never, never>;
 * }
 *
 * const app = sessions<Chat, { user: string }>({
 *   upgrade: (request) => ({
 *     data: { user: new URL(request.url).searchParams.get("user") ?? "?" },
 *   }),
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

import type { Hooks, Peer } from "../server/types.ts";
import { utf8Length } from "../_utf8.ts";
import { parseClientFrame, SUBPROTOCOL } from "./wire.ts";
import { Core, EPOCH, RELAYED_ROOM, TAKEN } from "./_core.ts";
import { Dispatch, malformed } from "./_dispatch.ts";
import { Presence, RELAYED_PRESENCE } from "./_presence.ts";
import { hello, HelloRefused } from "./_hello.ts";
import type { Link } from "./_session.ts";
import type { Session, SessionOptions, SessionServer } from "./api.ts";
import type { AnyProtocol, Protocol } from "./types.ts";

export type {
  EndReason,
  EventHandlers,
  PresenceMember,
  PresenceOptions,
  RequestHandlers,
  Session,
  SessionLimits,
  SessionOptions,
  SessionPublishOptions,
  SessionServer,
  SessionStats,
} from "./api.ts";
export { MemoryStore } from "./memory_store.ts";
export type {
  LogWindow,
  Maybe,
  PresenceEntry,
  PresenceWrite,
  SessionRecord,
  SessionStore,
} from "./store.ts";

/**
 * Creates the session layer for a protocol: pass its `hooks` to `serve()` or a
 * `createHandler()`. Clients connect with `SessionClient` from `@wskit/wskit/session-client`;
 * plain WebSocket clients get the `plain` hooks, or `426` without them.
 *
 * @typeParam P The protocol, shared with the client code.
 * @typeParam T The per-session data type, from the upgrade hook.
 * @param options Handlers, authorization, window and store.
 * @returns The hooks, the live sessions, `publish` to a room and `close`.
 *
 * @example Typed events and a room
 * ```ts
 * import { serve } from "@wskit/wskit";
 * import { sessions } from "@wskit/wskit/session";
 * import type { Protocol } from "@wskit/wskit/protocol";
 *
 * interface Chat extends Protocol {
 *   clientEvents: { say: { text: string } };
 *   serverEvents: { said: { text: string } };
 *   clientRequests: Record<never, never>;
 *   serverRequests: Record<never, never>;
 * }
 *
 * const app = sessions<Chat>({
 *   connect: (session) => session.join("lobby"),
 *   events: {
 *     say: (session, { text }) => session.publish("lobby", "said", { text }, { self: true }),
 *   },
 * });
 * await serve(app.hooks, { port: 8000 });
 * ```
 */
export function sessions<P extends Protocol = AnyProtocol, T = unknown>(
  options: SessionOptions<P, T> = {},
): SessionServer<P, T> {
  const opts = options as unknown as SessionOptions<AnyProtocol, T>;
  const core = new Core<T>(opts);
  const dispatch = new Dispatch<T>(core);
  const presence = opts.presence ? new Presence<T>(core, opts.presence) : undefined;
  core.presence = presence;
  const plain = opts.plain;
  const helloTimeout = opts.helloTimeout ?? 10_000;

  function handle(link: Link<T>, text: string): void {
    const peer = link.peer;
    if (link.waiting) {
      // A client says nothing between its hello and the welcome; a few frames are tolerated.
      if (link.waiting.length >= MAX_WAITING) {
        return close(peer, 1008, "Cannot hold more frames before the welcome");
      }
      link.waiting.push(text);
      return;
    }
    const frame = parseClientFrame(text);
    if (!frame) return close(peer, 1002, "Cannot read the frame: not a session frame");
    const bad = malformed(frame);
    if (bad) return close(peer, 1002, `Cannot read the frame: ${bad}`);
    const session = link.session;
    if (!session) {
      if (frame.t !== "hello") return close(peer, 1002, "Cannot proceed: expected hello first");
      clearTimeout(link.helloTimer);
      link.helloTimer = undefined;
      link.waiting = [];
      hello(core, link, frame).then(
        () => {
          const waiting = link.waiting ?? [];
          link.waiting = undefined;
          for (const text of waiting) handle(link, text);
        },
        (error) => {
          link.waiting = undefined;
          if (error instanceof HelloRefused) return close(peer, error.code, error.message);
          core.report(null, error);
          close(peer, 1011, "Session handshake failed");
        },
      );
      return;
    }
    switch (frame.t) {
      case "bye":
        core.end(session, "closed");
        return;
      case "hello":
        return close(peer, 1002, "Cannot say hello twice");
      case "g":
        dispatch.fill(link, frame.s, frame.p).catch((error) => core.report(session, error));
        return;
    }
    // Sequenced frames are numbered as they arrive, counting on from the welcome's `q`.
    frame.q = link.nextQ++;
    const why = dispatch.accept(session, frame, text.length);
    if (why) close(peer, why.startsWith("Cannot hold") ? 1008 : 1002, why);
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
        if (topic === EPOCH) {
          core.noteEpoch(data, true);
          return true;
        }
        if (topic.startsWith(RELAYED_PRESENCE)) {
          presence?.relayed(topic.slice(RELAYED_PRESENCE.length), data);
          return true;
        }
        if (topic.startsWith(RELAYED_ROOM)) {
          core.relayedRoom(topic.slice(RELAYED_ROOM.length), data);
          return true;
        }
      }
      return plain?.relayed?.(topic, data) ?? false;
    },
    relayRestored() {
      // What other instances published while the relay was down reached nobody here.
      core.hintRooms(core.localRooms()).catch((error) => core.report(null, error));
      presence?.resync();
      plain?.relayRestored?.();
    },
    async stop() {
      await core.close();
      await plain?.stop?.();
    },
    open(peer) {
      if (peer.protocol !== SUBPROTOCOL) return plain?.open?.(peer);
      const link: Link<T> = {
        peer,
        session: undefined,
        helloTimer: undefined,
        waiting: undefined,
        filling: false,
        nextQ: 1,
      };
      link.helloTimer = setTimeout(
        () => close(peer, 1002, `Cannot wait longer than ${helloTimeout} ms for hello`),
        helloTimeout,
      );
      core.links.set(peer, link);
    },
    message(peer, message) {
      const link = core.links.get(peer);
      if (!link) return plain?.message?.(peer, message);
      if (typeof message !== "string") {
        return close(peer, 1003, "Cannot read binary frames: the session protocol is text");
      }
      handle(link, message);
    },
    close(peer, details) {
      const link = core.links.get(peer);
      if (!link) return plain?.close?.(peer, details);
      clearTimeout(link.helloTimer);
      link.helloTimer = undefined;
      core.links.delete(peer);
      const session = link.session;
      if (!session || session.link !== link) return;
      core.detach(session);
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
      return {
        sessions: core.bySid.size,
        connected,
        ...core.counts,
        presence: presence?.count ?? 0,
      };
    },
    presence: (room) => presence ? presence.members(room) : Promise.resolve([]),
    close: () => core.close(),
  };
}

/** Frames a connection may send before its welcome (a `SessionClient` sends none). */
const MAX_WAITING = 64;

/** Closes a connection with a reason cut to what a close frame holds (123 bytes). */
function close(peer: Peer<unknown>, code: number, reason: string): void {
  if (peer.readyState >= 2) return;
  let why = reason;
  while (utf8Length(why) > 123) why = why.slice(0, Math.max(0, why.length - 8));
  peer.close(code, why);
}
