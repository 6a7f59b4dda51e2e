/**
 * The chat page's script, served at `/chat.js`: the messages, the connection state, the
 * messages waiting to be sent, the name. It knows nothing of the wire format; that is
 * `/chat_link.js` (see `examples/chat_link.ts`).
 *
 * Everything that comes from other people (names, messages, errors) reaches the page through
 * `textContent`, never as HTML, and the page's Content-Security-Policy allows no inline
 * script: a peer's `<img onerror=...>` is shown as the text it is.
 *
 * @module
 */

/** The module source. Written as plain JavaScript: the browser runs it as it is. */
export const CHAT_VIEW: string = `import { connectChat } from "./chat_link.js";

const NAME_KEY = "wskit-chat-name";
const $ = (id) => document.getElementById(id);
const log = $("log");
const statusBox = $("status");
const statusText = $("status-text");
const countdown = $("status-countdown");
const online = $("online");
const outbox = $("outbox");
const outboxList = $("outbox-list");
const nameForm = $("name-form");
const nameInput = $("name");
const composer = $("composer");
const input = $("message");

function stored() {
  try {
    return localStorage.getItem(NAME_KEY) || "";
  } catch {
    return ""; // storage may be off
  }
}

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

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A stable colour per name, so that people are easy to tell apart.
function hue(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
}

// Keeps the newest message in view, unless the reader has scrolled up to read older ones.
function append(item) {
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  log.append(item);
  if (atEnd) log.scrollTop = log.scrollHeight;
}

function system(text, kind) {
  const item = el("li", "system" + (kind ? " " + kind : ""));
  item.append(el("span", "text", text), el("time", "", clock()));
  append(item);
  return item;
}

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

const STATE_TEXT = {
  connecting: "Connecting",
  connected: "Connected",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

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
  if (state === "connected") wasConnected = true;
  else if (wasConnected) {
    wasConnected = false;
    system("Connection lost. Messages you write now will be sent when it is back.", "warning");
  }
}

// Messages on their way: queued while down, or sent and waiting for the server's copy.
const pending = new Map();
const STATUS_TEXT = {
  queued: "Waiting for the connection",
  sending: "Sending…",
  unconfirmed: "May not have arrived",
  failed: "Not sent",
};

function showOutbox() {
  outbox.hidden = pending.size === 0;
}

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
  entry.item.dataset.status = status;
  entry.note.textContent = STATUS_TEXT[status] + (detail ? ": " + detail : "");
  entry.actions.replaceChildren();
  if (status === "unconfirmed" || status === "failed") {
    const again = el("button", "", "Send again");
    again.type = "button";
    again.addEventListener("click", () => {
      forget(id);
      chat.say(entry.text);
    });
    const drop = el("button", "", "Dismiss");
    drop.type = "button";
    drop.addEventListener("click", () => forget(id));
    entry.actions.append(again, drop);
  }
  showOutbox();
}

function forget(id) {
  const entry = pending.get(id);
  if (!entry) return;
  entry.item.remove();
  pending.delete(id);
  showOutbox();
}

// A join followed soon by a rename is a returning person restoring their name: one line.
const recentJoins = new Map();
// While a rename is on its way: the name stored before it, put back if it is refused.
let renaming = null;

const view = {
  connection({ state, retryAt: at, reason }) {
    retryAt = at ?? null;
    showState(state, reason);
  },
  welcome({ name, online: count, again }) {
    online.textContent = count + " online";
    const picked = stored();
    if (again) system("Reconnected");
    else if (picked && picked === name) system("Welcome back, " + picked + "!");
    else system("Welcome! You are " + name + ": pick a name above.");
  },
  identity(name) {
    if (document.activeElement !== nameInput) nameInput.value = name;
    nameInput.dataset.current = name;
  },
  joined({ name, online: count }) {
    online.textContent = count + " online";
    for (const [who, join] of recentJoins) {
      if (Date.now() - join.at > 10000) recentJoins.delete(who);
    }
    recentJoins.set(name, { item: system(name + " joined"), at: Date.now() });
  },
  left({ name, online: count }) {
    online.textContent = count + " online";
    system(name + " left");
  },
  renamed({ from, name, own }) {
    const join = recentJoins.get(from);
    recentJoins.delete(from);
    if (own) {
      if (renaming) system("You are now " + name);
      renaming = null;
      store(name);
    } else if (join && Date.now() - join.at < 10000) {
      join.item.querySelector(".text").textContent = name + " joined";
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
`;
