/**
 * The chat page's script: the messages, the connection state, the messages waiting to be
 * sent, the name. It knows nothing of the wire format; that is `./link.js`.
 *
 * Everything that comes from other people (names, messages, errors) reaches the page through
 * `textContent`, never as HTML, and the page's Content-Security-Policy allows no inline
 * script but its import map: a peer's `<img onerror=...>` is shown as the text it is.
 *
 * Plain JavaScript that the browser runs as it is; `deno task check` type-checks it (see
 * `./deno.json`).
 *
 * @module
 */

import { connectChat } from "./link.js";

/** @import { ChatView, ConnectionState, OutgoingStatus } from "./link.js" */

const NAME_KEY = "wskit-chat-name";

/**
 * The element of the page with that id (the page has it: a missing one is a bug).
 *
 * @template {HTMLElement} [E=HTMLElement]
 * @param {string} id
 * @returns {E}
 */
function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`Cannot find #${id} in the page`);
  return /** @type {E} */ (node);
}
const log = $("log");
const statusBox = $("status");
const statusText = $("status-text");
const countdown = $("status-countdown");
const online = $("online");
const membersList = $("members");
const outbox = $("outbox");
const outboxList = $("outbox-list");
const nameForm = $("name-form");
/** @type {HTMLInputElement} */
const nameInput = $("name");
const composer = $("composer");
/** @type {HTMLInputElement} */
const input = $("message");

function stored() {
  try {
    return localStorage.getItem(NAME_KEY) || "";
  } catch {
    return ""; // storage may be off
  }
}

/** @param {string} name */
function store(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // storage may be off: the name lasts as long as the page
  }
}

function clock() {
  return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A stable colour per name, so that people are easy to tell apart.
 *
 * @param {string} name
 */
function hue(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + (c.codePointAt(0) ?? 0)) % 360;
  return h;
}

/**
 * Keeps the newest message in view, unless the reader has scrolled up to read older ones.
 *
 * @param {HTMLElement} item
 */
function append(item) {
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  log.append(item);
  if (atEnd) log.scrollTop = log.scrollHeight;
}

/**
 * @param {string} text
 * @param {"warning" | "error"} [kind]
 */
function system(text, kind) {
  const item = el("li", "system" + (kind ? " " + kind : ""));
  item.append(el("span", "text", text), el("time", "", clock()));
  append(item);
  return item;
}

/**
 * @param {string} name
 * @param {string} text
 * @param {boolean} own
 */
function bubble(name, text, own) {
  const item = el("li", own ? "message own" : "message");
  if (!own) {
    const who = el("span", "name", name);
    who.style.setProperty("--hue", String(hue(name)));
    item.append(who);
  }
  item.append(el("p", "text", text), el("time", "", clock()));
  append(item);
}

// The connection state, with the countdown to the next attempt.
/** @type {number | null} */
let retryAt = null;
let ticker = 0;
let wasConnected = false;

// The countdown is hidden from screen readers: the status region announces the state once,
// not every second.
function tick() {
  const left = retryAt === null ? 0 : Math.ceil((retryAt - Date.now()) / 1000);
  const text = left > 0 ? " in " + left + " s" : "…";
  if (countdown.textContent !== text) countdown.textContent = text;
}

/** @type {Record<ConnectionState, string>} */
const STATE_TEXT = {
  connecting: "Connecting",
  connected: "Connected",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

/**
 * @param {ConnectionState} state
 * @param {string} [reason]
 */
function showState(state, reason) {
  statusBox.dataset.state = state;
  statusText.textContent = STATE_TEXT[state] + (state === "offline" && reason ? ": " + reason : "");
  clearInterval(ticker);
  countdown.textContent = "";
  if (state === "connecting" || state === "reconnecting") {
    tick();
    ticker = setInterval(tick, 250);
  }
  input.placeholder = state === "connected" ? "Message" : "Message (sent when connected)";
  // Who is online is known only while connected.
  online.hidden = state !== "connected";
  membersList.hidden = state !== "connected";
  if (state === "connected") wasConnected = true;
  else if (wasConnected) {
    wasConnected = false;
    system("Connection lost. Messages you write now will be sent when it is back.", "warning");
  }
}

/**
 * Messages on their way: queued while down, or sent and waiting for the server's copy.
 *
 * @type {Map<number, { item: HTMLElement, note: HTMLElement, actions: HTMLElement, text: string }>}
 */
const pending = new Map();
/** @type {Record<OutgoingStatus, string>} */
const STATUS_TEXT = {
  queued: "Waiting for the connection",
  sending: "Sending…",
  unconfirmed: "May not have arrived",
  failed: "Not sent",
};

function showOutbox() {
  outbox.hidden = pending.size === 0;
}

/** @type {ChatView["outgoing"]} */
function outgoing({ id, text, status, detail }) {
  let entry = pending.get(id);
  if (!entry) {
    const item = el("li", "pending");
    const body = el("p", "text", text);
    const note = el("span", "note");
    const actions = el("span", "actions");
    item.append(body, note, actions);
    outboxList.append(item);
    entry = { item, note, actions, text };
    pending.set(id, entry);
  }
  const { item, note, actions } = entry;
  item.dataset.status = status;
  note.textContent = STATUS_TEXT[status] + (detail ? ": " + detail : "");
  actions.replaceChildren();
  if (status === "unconfirmed" || status === "failed") {
    const again = el("button", "", "Send again");
    again.type = "button";
    again.addEventListener("click", () => {
      forget(id);
      chat.say(text);
    });
    const drop = el("button", "", "Dismiss");
    drop.type = "button";
    drop.addEventListener("click", () => forget(id));
    actions.append(again, drop);
  }
  showOutbox();
}

/** @param {number} id */
function forget(id) {
  const entry = pending.get(id);
  if (!entry) return;
  entry.item.remove();
  pending.delete(id);
  showOutbox();
}

/**
 * A join followed soon by a rename is a returning person restoring their name: one line.
 *
 * @type {Map<string, { item: HTMLElement, at: number }>}
 */
const recentJoins = new Map();
/**
 * While a rename is on its way: the name stored before it, put back if it is refused.
 *
 * @type {{ previous: string } | null}
 */
let renaming = null;

/** @type {ChatView} */
const view = {
  connection({ state, retryAt: at, reason }) {
    retryAt = at ?? null;
    showState(state, reason);
  },
  welcome({ name, again }) {
    const picked = stored();
    if (again) system("Reconnected");
    else if (picked && picked === name) system("Welcome back, " + picked + "!");
    else system("Welcome! You are " + name + ": pick a name above.");
  },
  identity(name) {
    if (document.activeElement !== nameInput) nameInput.value = name;
    nameInput.dataset.current = name;
  },
  joined({ name }) {
    for (const [who, join] of recentJoins) {
      if (Date.now() - join.at > 10000) recentJoins.delete(who);
    }
    recentJoins.set(name, { item: system(name + " joined"), at: Date.now() });
  },
  left({ name }) {
    system(name + " left");
  },
  members(names) {
    online.textContent = names.length + " online";
    membersList.replaceChildren(...names.map((name) => {
      const item = el("li", "", name);
      item.style.setProperty("--hue", String(hue(name)));
      return item;
    }));
  },
  renamed({ from, name, own }) {
    const join = recentJoins.get(from);
    recentJoins.delete(from);
    if (own) {
      if (renaming) system("You are now " + name);
      renaming = null;
      store(name);
    } else if (join && Date.now() - join.at < 10000) {
      const text = join.item.querySelector(".text");
      if (text) text.textContent = name + " joined";
    } else {
      system(from + " is now " + name);
    }
  },
  message({ name, text, own, id }) {
    if (own) forget(id);
    bubble(name, text, own);
  },
  outgoing,
  problem(text, about) {
    if (about === "rename" && renaming) {
      store(renaming.previous);
      renaming = null;
    }
    system(text, "error");
  },
};

const chat = connectChat(new URL("./", location.href), view, { name: stored() });

composer.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value;
  if (text.trim() === "") return;
  chat.say(text);
  input.value = "";
});

// Typing a new name replaces the old one.
nameInput.addEventListener("focus", () => nameInput.select());

nameForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const name = nameInput.value.trim();
  if (name === "" || name === nameInput.dataset.current) return;
  renaming = { previous: stored() };
  store(name);
  chat.rename(name);
  input.focus();
});

input.focus();
