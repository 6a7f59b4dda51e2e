/**
 * The chat room behind `examples/chat.ts`: the broadcast chat of the classic tutorials, on
 * wskit's session layer, so that a page that loses its connection for a few seconds misses
 * no message. Kept apart from the entry point so that tests can run it in-process.
 *
 * Two kinds of client share the room:
 *
 * - **Session clients** (the page) speak `ChatProtocol` (`examples/chat_protocol.ts`). Their
 *   name comes with the connection (`?name=`); a new session gets `welcome`, everyone else
 *   `joined`, and `left` when the session ends (a goodbye, or its window passing), not at
 *   every blip of the network. `say` and `rename` are requests: their answer confirms them.
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
 * @module
 */

import {
  type Hooks,
  type LogWindow,
  type Peer,
  type RateLimitOptions,
  RemoteError,
  type Session,
  sessions,
  type SessionServer,
  type SessionStore,
  type WebSocketEndpoint,
} from "../mod.ts";
import type { ChatProtocol, Member } from "./chat_protocol.ts";

export type { ChatProtocol, Member } from "./chat_protocol.ts";

/** The one room. */
export const ROOM = "chat";
/** The topic of the plain clients. */
const PLAIN = "chat/plain";
/** Longest accepted message, in UTF-16 code units. */
export const MAX_TEXT = 4000;
/** Longest accepted name. */
export const MAX_NAME = 32;
/** Messages a second per person, and seconds of burst. */
const RATE = 20;
const BURST = 2;

/**
 * The endpoint's own limit, a backstop far above the chat's: a client past it is closed
 * (1008), which a session client survives by reconnecting.
 */
export const CHAT_RATE_LIMIT: RateLimitOptions = { messages: 100, burst: 2, policy: "close" };

/** Where the chat keeps its sessions: in memory by default, in Redis to span servers. */
export interface ChatOptions {
  /** The session store. */
  store?: SessionStore;
  /** How much history a session can recover. */
  window?: LogWindow;
}

type Refusal = { error: string; code: string };

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

/** Checks a name, and cleans it. */
function checkName(name: unknown): string | Refusal {
  const clean = typeof name === "string" ? name.replace(/\p{Cc}/gu, "").trim() : "";
  if (clean.length === 0 || clean.length > MAX_NAME) {
    return { error: `Cannot rename: a name has 1 to ${MAX_NAME} characters`, code: "bad_name" };
  }
  return clean;
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
 * independent room with its own name counter.
 */
export function chatApp(options: ChatOptions = {}): SessionServer<ChatProtocol, Member> {
  let guests = 0;
  let plainOnline = 0;
  let endpoint: WebSocketEndpoint<Member> | undefined;
  const online = () => app.stats().sessions + plainOnline;
  const toPlain = (event: Record<string, unknown>, except?: Peer<Member>) => {
    const frame = JSON.stringify(event);
    if (except) except.publish(PLAIN, frame);
    else endpoint?.publish(PLAIN, frame);
  };

  /** Everyone hears of a message, whichever kind of client sent it. */
  function said(name: string, text: string, by: string, ref: number): void {
    app.publish(ROOM, "message", { name, text, by, ref });
    toPlain({ type: "message", name, text });
  }

  function renamed(from: string, name: string, by: string): void {
    app.publish(ROOM, "renamed", { from, name, by });
    toPlain({ type: "rename", from, name });
  }

  const plain: Hooks<Member> = {
    start: (e) => void (endpoint = e),
    open(peer) {
      plainOnline++;
      peer.subscribe(PLAIN);
      const name = peer.data.name;
      peer.send(JSON.stringify({ type: "welcome", name, online: online() }));
      toPlain({ type: "join", name, online: online() }, peer);
      app.publish(ROOM, "joined", { name, online: online() });
    },
    message(peer, message) {
      const tell = (event: Record<string, unknown>) => void peer.send(JSON.stringify(event));
      const input = parsePlain(message);
      if ("error" in input) return tell({ type: "error", error: input.error });
      if (!allow(peer.data)) return tell({ type: "error", error: SLOW_DOWN });
      if (input.type === "name") {
        const from = peer.data.name;
        peer.data.name = input.name;
        renamed(from, input.name, "");
      } else {
        said(peer.data.name, input.text, "", 0);
      }
    },
    close(peer) {
      plainOnline--;
      const name = peer.data.name;
      toPlain({ type: "leave", name, online: online() }, peer);
      app.publish(ROOM, "left", { name, online: online() });
    },
  };

  const app: SessionServer<ChatProtocol, Member> = sessions<ChatProtocol, Member>({
    upgrade(request) {
      const asked = checkName(new URL(request.url).searchParams.get("name"));
      const name = typeof asked === "string" ? asked : `guest-${++guests}`;
      return { data: { name, tokens: RATE * BURST, filled: Date.now() } };
    },
    connect(session, { resumed }) {
      if (resumed) return;
      const name = session.data.name;
      session.join(ROOM);
      session.emit("welcome", { name, online: online() });
      session.publish(ROOM, "joined", { name, online: online() });
      toPlain({ type: "join", name, online: online() });
    },
    end(session) {
      const name = session.data.name;
      session.publish(ROOM, "left", { name, online: online() });
      toPlain({ type: "leave", name, online: online() });
    },
    requests: {
      say(session, { text, ref }) {
        const checked = checkText(text);
        if (typeof checked !== "string") throw refusal(checked);
        if (!allow(session.data)) throw new RemoteError(SLOW_DOWN, { code: "slow_down" });
        said(session.data.name, checked, session.id, typeof ref === "number" ? ref : 0);
        return null;
      },
      rename(session: Session<ChatProtocol, Member>, { name }) {
        const checked = checkName(name);
        if (typeof checked !== "string") throw refusal(checked);
        const from = session.data.name;
        if (checked !== from) {
          session.data.name = checked;
          renamed(from, checked, session.id);
        }
        return { name: checked };
      },
    },
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
