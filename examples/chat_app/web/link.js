/**
 * The page's link to the server: the one part of the page that knows the chat's protocol
 * (`ChatProtocol`, `../protocol.ts`) and the client underneath (`SessionClient`, with its
 * heartbeat on). The view (`./chat.js`) only calls `connectChat()` and reacts to what it
 * reports through a {@linkcode ChatView}.
 *
 * The session layer confirms each message (`say` is a request) and resends what a dropped
 * link swallowed, so across a blip of the network nothing is lost or doubled. Only when the
 * server lost the session (a restart) can a message sent just before be of unknown fate: it
 * is then reported `"unconfirmed"`, with a way to send it again.
 *
 * A name the server refuses at connect (someone online goes by it, or it is not allowed)
 * comes back as a close with `NAME_TAKEN` or `NAME_REFUSED` and the reason: the link reports
 * it and connects again under a guest name.
 *
 * Plain JavaScript that the browser runs as it is; `deno task check` type-checks it (see
 * `./deno.json`).
 *
 * @module
 */

import { defaultShouldReconnect } from "@wskit/wskit/client";
import { SessionClient } from "@wskit/wskit/session-client";
import { NAME_REFUSED, NAME_TAKEN } from "./close_codes.js";

/** @import { ChatProtocol } from "../protocol.ts" */

/**
 * @typedef {"connecting" | "connected" | "reconnecting" | "offline"} ConnectionState
 * @typedef {"queued" | "sending" | "unconfirmed" | "failed"} OutgoingStatus
 */

/**
 * What the link reports to the view.
 *
 * @typedef {object} ChatView
 * @property {(s: { state: ConnectionState, retryAt?: number | null, reason?: string }) => void} connection
 * @property {(w: { name: string, online: number, again: boolean }) => void} welcome
 *   Again: after a reconnect.
 * @property {(name: string) => void} identity The name this person goes by now.
 * @property {(m: { name: string, online: number }) => void} joined
 * @property {(m: { name: string, online: number }) => void} left
 * @property {(m: { from: string, name: string, own: boolean }) => void} renamed
 * @property {(m: { name: string, text: string, own: boolean, id: number }) => void} message
 *   Own: the server's copy of `say()` number `id`.
 * @property {(m: { id: number, text: string, status: OutgoingStatus, detail?: string }) => void} outgoing
 * @property {(names: string[]) => void} members Who is in the room now, on every server
 *   instance (the room's presence), sorted.
 * @property {(text: string, about?: "rename" | "name") => void} problem The server refused
 *   something: `"rename"` a rename, `"name"` the name asked for at connect (the page is back
 *   as a guest).
 */

/**
 * What the view can ask of the link.
 *
 * @typedef {object} Chat
 * @property {(text: string) => number} say Sends a message; its fate comes back through
 *   `view.outgoing()` under the number returned.
 * @property {(name: string) => void} rename Changes the name, kept across reconnects.
 */

/**
 * Connects to the chat at `url` (the page's own address).
 *
 * @param {URL} url
 * @param {ChatView} view
 * @param {{ name?: string }} [options] The name picked earlier, if any.
 * @returns {Chat}
 */
export function connectChat(url, view, options = {}) {
  const ROOM = "chat";
  let wanted = options.name || ""; // the name the person picked
  let me = ""; // the name the server knows this person by
  let online = 0;
  let sessions = 0;
  let nextId = 1;
  /** Messages said and not yet confirmed: id -> text. @type {Map<number, string>} */
  const pending = new Map();

  // The name travels with every (re)connection, so a new session starts under it and what
  // was written offline goes out under the name it was written with.
  /** @type {SessionClient<ChatProtocol>} */
  const chat = new SessionClient(() => {
    const u = new URL(url);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    if (wanted) u.searchParams.set("name", wanted);
    return u;
  }, { heartbeat: true, requestTimeout: 120000, shouldReconnect });

  /** @param {CloseEvent} e */
  function shouldReconnect(e) {
    if ((e.code === NAME_TAKEN || e.code === NAME_REFUSED) && wanted) {
      view.problem(e.reason, "name");
      wanted = "";
      return true;
    }
    return defaultShouldReconnect(e);
  }
  const ws = chat.socket;

  function offline() {
    return globalThis.navigator && navigator.onLine === false;
  }

  ws.addEventListener("connecting", (e) => {
    if (e.attempt === 0 && sessions === 0) view.connection({ state: "connecting" });
    else view.connection({ state: offline() ? "offline" : "reconnecting", retryAt: null });
  });
  ws.addEventListener("reconnect", (e) => {
    if (offline()) view.connection({ state: "offline", reason: "no network" });
    else view.connection({ state: "reconnecting", retryAt: Date.now() + e.delay });
  });
  ws.addEventListener("giveup", (e) => {
    const c = e.closeEvent;
    const why = c.reason || "the server closed the connection (" + c.code + ")";
    view.connection({ state: "offline", reason: why + "; reload to try again" });
  });
  globalThis.addEventListener("offline", () => {
    if (chat.readyState !== 1) view.connection({ state: "offline", reason: "no network" });
  });
  // A tab being closed says goodbye, so the others see it leave at once.
  globalThis.addEventListener("pagehide", () => chat.close());

  // The link dropped: what was said and not confirmed goes out again after the reconnect.
  ws.addEventListener("close", () => {
    for (const [id, text] of pending) view.outgoing({ id, text, status: "queued" });
  });
  function connected() {
    view.connection({ state: "connected" });
    for (const [id, text] of pending) view.outgoing({ id, text, status: "sending" });
  }
  // A new session is in once the chat welcomes it: until then its name may be refused.
  chat.addEventListener("open", (e) => {
    if (!e.resumed) return;
    connected();
    view.welcome({ name: me, online, again: true });
  });
  chat.addEventListener("resync", (e) => {
    // The server lost the session (a restart): what was sent just before may be lost.
    for (const m of e.unconfirmed) {
      if (m.event !== "say") continue;
      const { text, ref } = /** @type {ChatProtocol["clientRequests"]["say"]["payload"]} */ (
        m.payload
      );
      pending.delete(ref);
      view.outgoing({ id: ref, text, status: "unconfirmed" });
    }
    if (e.reason !== "new-session") view.problem("Some messages may have been missed while away");
  });

  // Who is online: the room's presence, kept by the session client (the server puts each
  // member's name in it), so the count and the list are the same in every tab.
  chat.addEventListener("presence", (e) => {
    if (e.room !== ROOM) return;
    const names = [...chat.presence(ROOM).values()].map((data) => {
      const name = data && typeof data === "object" && "name" in data ? data.name : "";
      return typeof name === "string" ? name : "";
    });
    view.members(names.sort((a, b) => a.localeCompare(b)));
  });

  chat.on("welcome", (m) => {
    sessions++;
    me = m.name;
    online = m.online;
    connected();
    view.welcome({ name: me, online, again: sessions > 1 });
    view.identity(wanted || me);
  });
  chat.on("joined", (m) => {
    online = m.online;
    view.joined({ name: m.name, online });
  });
  chat.on("left", (m) => {
    online = m.online;
    view.left({ name: m.name, online });
  });
  chat.on("renamed", (m) => {
    const own = m.by === chat.id;
    if (own) {
      me = m.name;
      wanted = me;
      view.identity(me);
    }
    view.renamed({ from: m.from, name: m.name, own });
  });
  chat.on("message", (m) => {
    const own = m.by === chat.id && pending.has(m.ref);
    if (own) pending.delete(m.ref);
    view.message({ name: m.name, text: m.text, own: m.by === chat.id, id: own ? m.ref : 0 });
  });

  return {
    say(text) {
      const id = nextId++;
      pending.set(id, text);
      const sending = chat.readyState === 1;
      view.outgoing({ id, text, status: sending ? "sending" : "queued" });
      chat.request("say", { text, ref: id }).catch((error) => {
        if (!pending.has(id)) return; // settled already (the session was lost)
        pending.delete(id);
        const timeout = error?.name === "TimeoutError";
        view.outgoing({
          id,
          text,
          status: timeout ? "unconfirmed" : "failed",
          detail: error?.message ? error.message : String(error),
        });
        if (!timeout && error && error.code !== "overflow") view.problem(String(error.message));
      });
      return id;
    },
    rename(name) {
      const previous = wanted;
      wanted = name;
      chat.request("rename", { name }).catch((error) => {
        wanted = previous || me;
        view.identity(me);
        view.problem(error?.message ? error.message : String(error), "rename");
      });
    },
  };
}
