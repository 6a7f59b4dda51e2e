/**
 * The chat room of `./main.ts` and `./serve.ts`: the broadcast chat of the classic tutorials,
 * on wskit's session layer, so that a page that loses its connection for a few seconds misses
 * no message. Kept apart from the entry points so that tests can run it in-process.
 *
 * Two kinds of client share the room:
 *
 * - **Session clients** (the page) speak `ChatProtocol` (`./protocol.ts`). Their name comes
 *   with the connection (`?name=`); a new session gets `welcome`, everyone else `joined`, and
 *   `left` when the session ends (a goodbye, or its window passing), not at every blip of the
 *   network. `say` and `rename` are requests: their answer confirms them.
 * - **Plain WebSocket clients** (`wscat`, the tutorials' clients) speak JSON text frames. From
 *   the server: `{type:"welcome", name, online}` to a newcomer, `{type:"join"|"leave", name,
 *   online}` to everyone else, `{type:"message", name, text}` to everyone (the sender
 *   included, as its confirmation), `{type:"rename", from, name}`, and `{type:"error",
 *   error}` to a client whose input was refused. From a client: `{type:"message", text}`,
 *   `{type:"name", name}`, or any plain text, taken as a message.
 *
 * Every message reaches both kinds. Each person may send 20 messages a second (with two
 * seconds of burst); past that a message is refused with "Slow down".
 *
 * A name is one person's (the rules: `./names.ts`). A rename is refused with the reason; a
 * name asked for at connect (`?name=`) closes the accepted connection with `NAME_TAKEN` (4409)
 * or `NAME_REFUSED` (4400) and the reason. With a shared store (Redis), a session's name is
 * checked against every instance's members too (the room's presence, `{ name }` per member),
 * and guest names skip those taken anywhere; two instances giving one name at the same
 * moment are not caught (the check reads, it does not lock). Plain clients' names are per
 * instance.
 *
 * @module
 */

import {
  type Hooks,
  type LogWindow,
  type Peer,
  type RateLimitOptions,
  RemoteError,
  type RequestHandlers,
  sessions,
  type SessionServer,
  type SessionStore,
  type WebSocketEndpoint,
} from "@wskit/wskit";
import { checkName, nameKey, Names, type Refusal, TAKEN } from "./names.ts";
import { type ChatProtocol, type Member, NAME_REFUSED, NAME_TAKEN } from "./protocol.ts";

export type { ChatProtocol, Member } from "./protocol.ts";
export { NAME_REFUSED, NAME_TAKEN } from "./protocol.ts";

/** The one room. */
export const ROOM = "chat";
/** The topic of the plain clients. */
const PLAIN = "chat/plain";
/** Longest accepted message, in UTF-16 code units. */
export const MAX_TEXT = 4000;
/** Messages a second per person, and seconds of burst. */
const RATE = 20;
const BURST = 2;

/**
 * The endpoint's own limit, a backstop far above the chat's: a client past it is closed
 * (1008), which a session client survives by reconnecting.
 */
export const CHAT_RATE_LIMIT: RateLimitOptions = { messages: 100, burst: 2000, policy: "close" };

/** Where the chat keeps its sessions: in memory by default, in Redis to span servers. */
export interface ChatOptions {
  /** The session store. */
  store?: SessionStore;
  /** How much history a session can recover. */
  window?: LogWindow;
}

/** Checks a message. */
function checkText(text: unknown): string | Refusal {
  if (typeof text !== "string") return { error: "Cannot send: a message is text", code: "bad" };
  if (text.length > MAX_TEXT) {
    return { error: `Cannot send: a message has at most ${MAX_TEXT} characters`, code: "too_long" };
  }
  if (text.trim().length === 0) {
    return { error: "Cannot send: the message is empty", code: "empty" };
  }
  return text;
}

/** Takes one message from a member's bucket. */
function allow(member: Member): boolean {
  const now = Date.now();
  member.tokens = Math.min(RATE * BURST, member.tokens + (now - member.filled) / 1000 * RATE);
  member.filled = now;
  if (member.tokens < 1) return false;
  member.tokens--;
  return true;
}

const SLOW_DOWN = "Slow down: too many messages";

/**
 * Builds the chat: its session layer, whose `hooks` go to `serve()`. Each call is an
 * independent room with its own names.
 */
export function chatApp(options: ChatOptions = {}): SessionServer<ChatProtocol, Member> {
  let plainOnline = 0;
  let endpoint: WebSocketEndpoint<Member> | undefined;
  const names = new Names();
  /** Why a newcomer's `?name=` was refused, read when it would join. */
  const badNames = new WeakMap<Member, Refusal>();
  /** Newcomers closed for their name: they never joined, so they do not leave either. */
  const refused = new WeakSet<Member>();
  const online = () => app.stats().sessions + plainOnline;
  const toPlain = (event: Record<string, unknown>, except?: Peer<Member>) => {
    const frame = JSON.stringify(event);
    if (except) except.publish(PLAIN, frame);
    else endpoint?.publish(PLAIN, frame);
  };

  /** Whether the store is shared: then names are checked against every instance's members. */
  const shared = options.store?.shared === true;

  /**
   * Takes a newcomer in under the name it asked for, or a guest name no one goes by here or
   * in `elsewhere` (the name keys of other instances' members); else says why not.
   */
  function admit(
    member: Member,
    live?: () => boolean,
    elsewhere?: ReadonlySet<string>,
  ): Refusal | undefined {
    const bad = badNames.get(member);
    if (bad) return bad;
    if (member.name === "") member.name = names.guest(elsewhere);
    if (elsewhere?.has(nameKey(member.name))) return TAKEN;
    return names.claim(member, member.name, live) ? undefined : TAKEN;
  }

  /** The name keys of the room's members other than `id`, on every instance (presence). */
  async function namesElsewhere(id: string): Promise<Set<string>> {
    const keys = new Set<string>();
    if (!shared) return keys; // in one process, `names` knows everyone
    for (const m of await app.presence(ROOM)) {
      const name = (m.data as { name?: unknown } | null)?.name;
      if (m.id !== id && typeof name === "string") keys.add(nameKey(name));
    }
    return keys;
  }

  function turnAway(member: Member, refusal: Refusal, close: (code: number, why: string) => void) {
    refused.add(member);
    close(refusal.code === TAKEN.code ? NAME_TAKEN : NAME_REFUSED, refusal.error);
  }

  /** Everyone hears of a message, whichever kind of client sent it. */
  function said(name: string, text: string, by: string, ref: number): void {
    app.publish(ROOM, "message", { name, text, by, ref });
    toPlain({ type: "message", name, text });
  }

  /** Renames a member if no one else goes by the name, and tells everyone. */
  function rename(member: Member, name: string, by: string): Refusal | undefined {
    const from = member.name;
    if (name === from) return;
    if (!names.claim(member, name)) return TAKEN;
    app.publish(ROOM, "renamed", { from, name, by });
    toPlain({ type: "rename", from, name });
  }

  const plain: Hooks<Member> = {
    start: (e) => void (endpoint = e),
    open(peer) {
      const refusal = admit(peer.data);
      if (refusal) return turnAway(peer.data, refusal, (code, why) => peer.close(code, why));
      plainOnline++;
      peer.subscribe(PLAIN);
      const name = peer.data.name;
      peer.send(JSON.stringify({ type: "welcome", name, online: online() }));
      toPlain({ type: "join", name, online: online() }, peer);
      app.publish(ROOM, "joined", { name, online: online() });
    },
    message(peer, message) {
      if (refused.has(peer.data)) return;
      const tell = (event: Record<string, unknown>) => void peer.send(JSON.stringify(event));
      const input = parsePlain(message);
      if ("error" in input) return tell({ type: "error", error: input.error });
      if (!allow(peer.data)) return tell({ type: "error", error: SLOW_DOWN });
      if (input.type === "name") {
        const refusal = rename(peer.data, input.name, "");
        if (refusal) tell({ type: "error", error: refusal.error });
      } else {
        said(peer.data.name, input.text, "", 0);
      }
    },
    close(peer) {
      if (refused.has(peer.data)) return;
      plainOnline--;
      names.release(peer.data);
      const name = peer.data.name;
      toPlain({ type: "leave", name, online: online() }, peer);
      app.publish(ROOM, "left", { name, online: online() });
    },
  };

  const handlers: RequestHandlers<ChatProtocol, Member> = {
    say(session, payload) {
      const { text, ref } = fields(payload);
      const checked = checkText(text);
      if (typeof checked !== "string") throw refusal(checked);
      if (!allow(session.data)) throw new RemoteError(SLOW_DOWN, { code: "slow_down" });
      said(session.data.name, checked, session.id, typeof ref === "number" ? ref : 0);
      return null;
    },
    async rename(session, payload) {
      const checked = checkName(fields(payload).name);
      if (typeof checked !== "string") throw refusal(checked);
      if ((await namesElsewhere(session.id)).has(nameKey(checked))) throw refusal(TAKEN);
      const taken = rename(session.data, checked, session.id);
      if (taken) throw refusal(taken);
      session.setPresence(ROOM, { name: checked });
      return { name: checked };
    },
  };
  // Own properties only: the session layer looks a handler up by the name the client sent,
  // and "constructor" or "toString" must find nothing.
  const requests = Object.assign(Object.create(null), handlers) as typeof handlers;

  const app: SessionServer<ChatProtocol, Member> = sessions<ChatProtocol, Member>({
    upgrade(request) {
      const member: Member = { name: "", tokens: RATE * BURST, filled: Date.now() };
      const asked = new URL(request.url).searchParams.get("name");
      if (asked) {
        const checked = checkName(asked);
        if (typeof checked === "string") member.name = checked;
        else badNames.set(member, checked);
      }
      return { data: member };
    },
    async connect(session, { resumed }) {
      const member = session.data;
      const live = () => app.sessions.get(session.id) === session;
      if (resumed) {
        // Resumed here from another instance's store: this instance learns its name.
        names.claim(member, member.name, live);
        return;
      }
      const elsewhere = shared ? await namesElsewhere(session.id) : undefined;
      const refusal = admit(member, live, elsewhere);
      if (refusal) return turnAway(member, refusal, (code, why) => session.close(code, why));
      const name = member.name;
      // Its presence shows its name to every member, on every instance.
      session.join(ROOM, { name });
      session.emit("welcome", { name, online: online() });
      session.publish(ROOM, "joined", { name, online: online() });
      toPlain({ type: "join", name, online: online() });
    },
    end(session) {
      if (refused.has(session.data)) return;
      names.release(session.data);
      const name = session.data.name;
      session.publish(ROOM, "left", { name, online: online() });
      toPlain({ type: "leave", name, online: online() });
    },
    // The one room is the chat's: a client may ask to join it (again), and no other.
    join: (_session, room) => room === ROOM,
    // Who is in the room, across instances: a member shows its name, which only the server
    // sets (whatever a client asks to show).
    presence: { accept: (session) => ({ name: session.data.name }) },
    requests,
    error(_session, error) {
      console.error("chat:", error);
    },
    plain,
    ...options,
  });
  return app;
}

function refusal(r: Refusal): RemoteError {
  return new RemoteError(r.error, { code: r.code });
}

/** The fields of a request's payload, whatever the client sent as the payload. */
function fields(payload: unknown): { text?: unknown; ref?: unknown; name?: unknown } {
  if (typeof payload !== "object" || payload === null) return {};
  const own = (key: string) => Object.hasOwn(payload, key) ? (payload as never)[key] : undefined;
  return { text: own("text"), ref: own("ref"), name: own("name") };
}

type PlainInput = { type: "message"; text: string } | { type: "name"; name: string } | {
  error: string;
};

function parsePlain(message: string | Uint8Array): PlainInput {
  if (typeof message !== "string") return { error: "Cannot read binary messages: send text" };
  let value: unknown = message;
  if (message.startsWith("{")) {
    try {
      value = JSON.parse(message);
    } catch {
      value = message;
    }
  }
  const v = value as { type?: unknown; text?: unknown; name?: unknown };
  if (typeof value === "object" && value !== null && v.type === "name") {
    const name = checkName(v.name);
    return typeof name === "string" ? { type: "name", name } : { error: name.error };
  }
  if (typeof value === "object" && value !== null && v.type !== "message") {
    return {
      error: 'Cannot read the message: expected text, {"type":"message"} or {"type":"name"}',
    };
  }
  const text = checkText(typeof value === "string" ? value : v.text);
  return typeof text === "string" ? { type: "message", text } : { error: text.error };
}
