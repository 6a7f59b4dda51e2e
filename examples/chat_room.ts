/**
 * The chat room behind `examples/chat.ts`: the broadcast chat of the classic tutorials as
 * wskit hooks. Kept apart from the entry point so that tests can run it in-process.
 *
 * Wire format (JSON text frames). From the server:
 * - `{ type: "welcome", name, online }` to a newcomer only;
 * - `{ type: "join", name, online }` / `{ type: "leave", name, online }` to everyone else;
 * - `{ type: "message", name, text }` to everyone, the sender included (its confirmation);
 * - `{ type: "rename", from, name }` to everyone;
 * - `{ type: "error", error }` to the client whose input was refused.
 *
 * From a client: `{ type: "message", text }`, `{ type: "name", name }`, or any plain text,
 * which is taken as a message (so `wscat` and the tutorials' clients work as they are).
 *
 * @module
 */

import { type Hooks, LimitError, type Peer, type RateLimitOptions } from "../mod.ts";

/** Per-connection data of a chat member. */
export interface Member {
  name: string;
}

const ROOM = "chat";
/** Longest accepted message, in UTF-16 code units. */
export const MAX_TEXT = 4000;
/** Longest accepted name. */
export const MAX_NAME = 32;

/**
 * The chat's rate limit: 20 messages a second with two seconds of burst; past it a message is
 * refused (and its sender told), the connection stays.
 */
export const CHAT_RATE_LIMIT: RateLimitOptions = { messages: 20, burst: 2, policy: "refuse" };

/** Builds the chat's hooks; each call is an independent room with its own name counter. */
export function chatRoom(): Hooks<Member> {
  let guests = 0;
  let online = 0;
  const tell = (peer: Peer<Member>, event: Record<string, unknown>) =>
    peer.send(JSON.stringify(event));
  const everyone = (peer: Peer<Member>, event: Record<string, unknown>, self: boolean) =>
    peer.publish(ROOM, JSON.stringify(event), { self });

  return {
    upgrade: () => ({ data: { name: `guest-${++guests}` } }),
    open(peer) {
      online++;
      peer.subscribe(ROOM);
      tell(peer, { type: "welcome", name: peer.data.name, online });
      everyone(peer, { type: "join", name: peer.data.name, online }, false);
    },
    message(peer, message) {
      const input = parse(message);
      if ("error" in input) return void tell(peer, { type: "error", error: input.error });
      if (input.type === "name") {
        const from = peer.data.name;
        peer.data.name = input.name;
        everyone(peer, { type: "rename", from, name: input.name }, true);
      } else {
        everyone(peer, { type: "message", name: peer.data.name, text: input.text }, true);
      }
    },
    close(peer) {
      online--;
      everyone(peer, { type: "leave", name: peer.data.name, online }, false);
    },
    error(peer, error) {
      if (peer && error instanceof LimitError) {
        tell(peer, { type: "error", error: "Slow down: too many messages" });
      } else {
        console.error("chat:", error);
      }
    },
  };
}

type Input = { type: "message"; text: string } | { type: "name"; name: string } | {
  error: string;
};

function parse(message: string | Uint8Array): Input {
  if (typeof message !== "string") return { error: "Cannot read binary messages: send text" };
  let value: unknown = message;
  if (message.startsWith("{")) {
    try {
      value = JSON.parse(message);
    } catch {
      value = message;
    }
  }
  if (typeof value === "string") return checkText(value);
  const v = value as { type?: unknown; text?: unknown; name?: unknown };
  if (v.type === "message" && typeof v.text === "string") return checkText(v.text);
  if (v.type === "name" && typeof v.name === "string") {
    const name = v.name.replace(/\p{Cc}/gu, "").trim();
    if (name.length === 0 || name.length > MAX_NAME) {
      return { error: `Cannot rename: a name has 1 to ${MAX_NAME} characters` };
    }
    return { type: "name", name };
  }
  return { error: 'Cannot read the message: expected text, {"type":"message"} or {"type":"name"}' };
}

function checkText(text: string): Input {
  if (text.length > MAX_TEXT) {
    return { error: `Cannot send: a message has at most ${MAX_TEXT} characters` };
  }
  if (text.trim().length === 0) return { error: "Cannot send: the message is empty" };
  return { type: "message", text };
}
