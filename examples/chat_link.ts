/**
 * The chat page's link to the server, served at `/chat_link.js`: the one part of the page
 * that knows the chat's protocol (`ChatProtocol`, `examples/chat_protocol.ts`) and the
 * client underneath (`SessionClient` from `/client.js`, with its heartbeat on). The view
 * (`/chat.js`) only calls `connectChat()` and reacts to what it reports.
 *
 * The contract, as the view sees it:
 *
 *     const chat = connectChat(url, view, { name });  // name: the one picked earlier, or ""
 *     chat.say(text);      // a message; its fate comes back through view.outgoing()
 *     chat.rename(name);   // kept across reconnects
 *
 *     view.connection({ state, retryAt, reason })  // "connecting" | "connected" |
 *                                                  // "reconnecting" | "offline"
 *     view.welcome({ name, online, again })        // again: after a reconnect
 *     view.identity(name)                          // the name this person goes by now
 *     view.joined({ name, online }), view.left({ name, online })
 *     view.renamed({ from, name, own })
 *     view.message({ name, text, own, id })        // own: the server's copy of say() #id
 *     view.outgoing({ id, text, status, detail })  // status: "queued" | "sending" |
 *                                                  // "unconfirmed" | "failed"
 *     view.problem(text, about)                    // the server refused something;
 *                                                  // about: "rename" (a rename was
 *                                                  // refused), "name" (the name asked
 *                                                  // for at connect was: the page is
 *                                                  // back as a guest) or undefined
 *
 * The session layer confirms each message (`say` is a request) and resends what a dropped
 * link swallowed, so across a blip of the network nothing is lost or doubled. Only when the
 * server lost the session (a restart) can a message sent just before be of unknown fate: it
 * is then reported `"unconfirmed"`, with a way to send it again.
 *
 * A name the server refuses at connect (someone online goes by it, or it is not allowed)
 * comes back as a close with {@linkcode NAME_TAKEN} or {@linkcode NAME_REFUSED} and the
 * reason: the link reports it and connects again under a guest name.
 *
 * @module
 */

import { NAME_REFUSED, NAME_TAKEN } from "./chat_protocol.ts";

/** The module source. Written as plain JavaScript: the browser runs it as it is. */
export const CHAT_LINK: string =
  `import { defaultShouldReconnect, SessionClient } from "./client.js";

// The close codes of a connection whose name the server refused (examples/chat_protocol.ts).
const NAME_TAKEN = ${NAME_TAKEN};
const NAME_REFUSED = ${NAME_REFUSED};

export function connectChat(url, view, options = {}) {
  let wanted = options.name || ""; // the name the person picked
  let me = ""; // the name the server knows this person by
  let online = 0;
  let sessions = 0;
  let nextId = 1;
  // Messages said and not yet confirmed: id -> text.
  const pending = new Map();

  // The name travels with every (re)connection, so a new session starts under it and what
  // was written offline goes out under the name it was written with.
  const chat = new SessionClient(() => {
    const u = new URL(url);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    if (wanted) u.searchParams.set("name", wanted);
    return u;
  }, { heartbeat: true, requestTimeout: 120000, shouldReconnect });

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
      pending.delete(m.payload.ref);
      view.outgoing({ id: m.payload.ref, text: m.payload.text, status: "unconfirmed" });
    }
    if (e.reason !== "new-session") view.problem("Some messages may have been missed while away");
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
        const timeout = error && error.name === "TimeoutError";
        view.outgoing({
          id,
          text,
          status: timeout ? "unconfirmed" : "failed",
          detail: error && error.message ? error.message : String(error),
        });
        if (!timeout && error && error.code !== "overflow") view.problem(error.message);
      });
      return id;
    },
    rename(name) {
      const previous = wanted;
      wanted = name;
      chat.request("rename", { name }).catch((error) => {
        wanted = previous || me;
        view.identity(me);
        view.problem(error && error.message ? error.message : String(error), "rename");
      });
    },
  };
}
`;
