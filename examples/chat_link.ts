/**
 * The chat page's link to the server, served at `/chat_link.js`: the one part of the page
 * that knows the wire format of `examples/chat_room.ts` and the client underneath
 * (`ReconnectingWebSocket` from `/client.js`, with its heartbeat on). The view (`/chat.js`)
 * only calls `connectChat()` and reacts to what it reports, so moving the chat onto another
 * protocol means replacing this module alone.
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
 *     view.problem(text)                           // the server refused something
 *
 * Without acknowledgements the server's copy of a message is its confirmation: replies come
 * back on one connection in the order it sent them, so the oldest message waiting for one is
 * the one the next own copy (or error) answers. A message sent just before the link dropped
 * may or may not have arrived, and is reported `"unconfirmed"`.
 *
 * @module
 */

/** The module source. Written as plain JavaScript: the browser runs it as it is. */
export const CHAT_LINK: string = `import { ReconnectingWebSocket } from "./client.js";

export function connectChat(url, view, options = {}) {
  const ws = new ReconnectingWebSocket(url, undefined, { heartbeat: true });
  let wanted = options.name || ""; // the name the person picked
  let me = ""; // the name the server knows this connection by
  let opens = 0;
  let nextId = 1;
  // In the client's outbox, to go out after the next open, in order.
  let queued = [];
  // Sent, waiting for the server's copy (or error), in order.
  let waiting = [];

  function offline() {
    return globalThis.navigator && navigator.onLine === false;
  }

  function send(item) {
    const body = item.kind === "name"
      ? { type: "name", name: item.name }
      : { type: "message", text: item.text };
    const status = ws.send(JSON.stringify(body));
    if (status === "sent") waiting.push(item);
    else if (status === "queued") queued.push(item);
    return status;
  }

  ws.addEventListener("connecting", (e) => {
    if (e.attempt === 0) view.connection({ state: "connecting" });
    else view.connection({ state: offline() ? "offline" : "reconnecting", retryAt: null });
  });
  ws.addEventListener("open", () => {
    opens++;
    // Sent from the open listener, the name goes out before the outbox: messages written
    // while offline arrive under the name they were written with.
    if (wanted) send({ kind: "name", name: wanted });
    for (const item of queued) {
      waiting.push(item);
      if (item.kind === "message") view.outgoing({ id: item.id, text: item.text, status: "sending" });
    }
    queued = [];
    view.connection({ state: "connected" });
  });
  ws.addEventListener("message", (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return; // not the chat's
    }
    if (!m || typeof m !== "object") return;
    const head = waiting[0];
    if (m.type === "welcome") {
      me = String(m.name);
      view.welcome({ name: me, online: m.online, again: opens > 1 });
      view.identity(wanted || me);
    } else if (m.type === "join") {
      view.joined({ name: String(m.name), online: m.online });
    } else if (m.type === "leave") {
      view.left({ name: String(m.name), online: m.online });
    } else if (m.type === "rename") {
      const own = head !== undefined && head.kind === "name" && m.from === me;
      if (own) {
        waiting.shift();
        me = String(m.name);
        wanted = me;
        view.identity(me);
      }
      view.renamed({ from: String(m.from), name: String(m.name), own });
    } else if (m.type === "message") {
      const own = head !== undefined && head.kind === "message" && m.name === me &&
        m.text === head.text;
      if (own) waiting.shift();
      view.message({ name: String(m.name), text: String(m.text), own, id: own ? head.id : 0 });
    } else if (m.type === "error") {
      waiting.shift();
      if (head && head.kind === "message") {
        view.outgoing({ id: head.id, text: head.text, status: "failed", detail: String(m.error) });
      } else if (head && head.kind === "name") {
        wanted = me;
        view.identity(me);
      }
      view.problem(String(m.error));
    }
  });
  ws.addEventListener("close", () => {
    for (const item of waiting) {
      if (item.kind === "message") {
        view.outgoing({ id: item.id, text: item.text, status: "unconfirmed" });
      }
    }
    waiting = [];
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
  ws.addEventListener("drop", (e) => {
    if (e.reason !== "closed") return; // an overflow is reported by say() itself
    for (const item of queued) {
      if (item.kind === "message") {
        view.outgoing({ id: item.id, text: item.text, status: "failed", detail: "not sent" });
      }
    }
    queued = [];
  });
  globalThis.addEventListener("offline", () => {
    if (ws.readyState !== ws.OPEN) view.connection({ state: "offline", reason: "no network" });
  });

  return {
    say(text) {
      const item = { kind: "message", id: nextId++, text };
      const status = send(item);
      view.outgoing({
        id: item.id,
        text,
        status: status === "sent" ? "sending" : status === "queued" ? "queued" : "failed",
        detail: status !== "dropped"
          ? ""
          : ws.readyState === ws.CLOSED
          ? "the connection is closed"
          : "too many messages are waiting",
      });
      return item.id;
    },
    rename(name) {
      wanted = name;
      // While down, the name goes out with the next open (see above), not through the outbox.
      if (ws.readyState === ws.OPEN) send({ kind: "name", name });
    },
  };
}
`;
