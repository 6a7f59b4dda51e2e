/**
 * The chat page that `examples/chat.ts` serves on the socket's own port, and everything it
 * loads, kept in modules (not files read at run time) so that the example needs no permission
 * beyond `--allow-net` and no build step:
 *
 * | path            | what                                                                 |
 * | --------------- | -------------------------------------------------------------------- |
 * | `/`             | the page                                                             |
 * | `/chat.css`     | its style: phone-sized first, light and dark                         |
 * | `/chat.js`      | the view (`examples/chat_view.ts`)                                   |
 * | `/chat_link.js` | the wire format and the connection (`examples/chat_link.ts`)         |
 * | `/client.js`    | wskit's `SessionClient`, bundled (`chat_client_bundle.ts`)          |
 *
 * @module
 */

import { CLIENT_MODULE } from "./chat_client_bundle.ts";
import { CHAT_LINK } from "./chat_link.ts";
import { CHAT_VIEW } from "./chat_view.ts";

/** The page. It runs no inline script: its scripts are modules from the same origin. */
export const CHAT_PAGE: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<title>wskit chat</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%232563eb'/%3E%3C/svg%3E">
<link rel="stylesheet" href="chat.css">
<script type="module" src="chat.js"></script>
</head>
<body>
<header>
  <div class="bar">
    <h1>wskit chat</h1>
    <p id="status" role="status" data-state="connecting"><span class="dot" aria-hidden="true"></span><span id="status-text">Connecting</span><span id="status-countdown" aria-hidden="true">…</span></p>
    <p id="online"></p>
  </div>
  <form id="name-form" class="bar">
    <label for="name">Your name</label>
    <input id="name" name="name" maxlength="32" required autocomplete="nickname" spellcheck="false" enterkeyhint="done">
    <button type="submit">Save</button>
  </form>
</header>
<main>
  <ol id="log" role="log" aria-label="Messages" tabindex="0"></ol>
</main>
<footer>
  <section id="outbox" aria-label="Waiting to be sent" hidden>
    <ol id="outbox-list"></ol>
  </section>
  <form id="composer">
    <label for="message" class="visually-hidden">Message</label>
    <input id="message" name="message" maxlength="4000" autocomplete="off" enterkeyhint="send" placeholder="Message">
    <button type="submit">Send</button>
  </form>
</footer>
</body>
</html>
`;

/** The page's style sheet. */
export const CHAT_CSS: string = `:root {
  --bg: #ffffff;
  --fg: #111827;
  --muted: #4b5563;
  --line: #e5e7eb;
  --panel: #f3f4f6;
  --theirs: #f3f4f6;
  --mine: #1d4ed8;
  --mine-fg: #ffffff;
  --accent: #1d4ed8;
  --ok: #15803d;
  --warn: #b45309;
  --bad: #b91c1c;
  --name-l: 45%;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f172a;
    --fg: #e5e7eb;
    --muted: #9ca3af;
    --line: #1f2937;
    --panel: #111827;
    --theirs: #1e293b;
    --mine: #2563eb;
    --accent: #60a5fa;
    --ok: #4ade80;
    --warn: #fbbf24;
    --bad: #f87171;
    --name-l: 80%;
  }
}
* { box-sizing: border-box; }
html, body { height: 100%; }
body {
  margin: 0;
  display: flex;
  flex-direction: column;
  height: 100dvh;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: var(--bg);
  color: var(--fg);
}
header, footer {
  padding: 0.5rem max(0.75rem, env(safe-area-inset-left)) 0.5rem max(0.75rem, env(safe-area-inset-right));
  background: var(--panel);
}
header { border-bottom: 1px solid var(--line); }
footer { border-top: 1px solid var(--line); padding-bottom: max(0.5rem, env(safe-area-inset-bottom)); }
header, main, footer { width: 100%; }
.bar, #log, #composer, #outbox { max-width: 48rem; margin-inline: auto; }
.bar { display: flex; align-items: center; gap: 0.5rem 0.75rem; flex-wrap: wrap; }
.bar + .bar { margin-top: 0.4rem; }
h1 { font-size: 1.05rem; margin: 0; margin-inline-end: auto; }
#status, #online { margin: 0; font-size: 0.875rem; }
#status { display: inline-flex; align-items: center; gap: 0.35rem; font-weight: 600; }
#online { color: var(--muted); }
.dot { width: 0.6rem; height: 0.6rem; border-radius: 50%; background: var(--muted); }
[data-state="connected"] .dot { background: var(--ok); }
[data-state="connecting"] .dot, [data-state="reconnecting"] .dot {
  background: var(--warn);
  animation: pulse 1s ease-in-out infinite alternate;
}
[data-state="offline"] .dot { background: var(--bad); }
[data-state="reconnecting"] { color: var(--warn); }
[data-state="offline"] { color: var(--bad); }
@keyframes pulse { to { opacity: 0.3; } }
@media (prefers-reduced-motion: reduce) { .dot { animation: none !important; } }
label { font-size: 0.875rem; color: var(--muted); }
input, button { font: inherit; font-size: 16px; border-radius: 0.5rem; }
input {
  min-width: 0;
  padding: 0.45rem 0.65rem;
  border: 1px solid var(--line);
  background: var(--bg);
  color: var(--fg);
}
#name { flex: 1; max-width: 16rem; }
button {
  padding: 0.45rem 0.9rem;
  border: 0;
  background: var(--accent);
  color: #fff;
  font-weight: 600;
  cursor: pointer;
}
@media (prefers-color-scheme: dark) { button { color: #0f172a; } }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
main { flex: 1; min-height: 0; display: flex; }
#log {
  flex: 1;
  overflow-y: auto;
  list-style: none;
  margin-block: 0;
  padding: 0.75rem;
  display: flex;
  flex-direction: column;
  gap: 0.4rem;
}
#log > li { max-width: min(85%, 36rem); }
/* New messages come in at the bottom, as in any messenger. */
#log > li:first-child { margin-top: auto; }
.message {
  align-self: flex-start;
  padding: 0.4rem 0.7rem;
  border-radius: 1rem 1rem 1rem 0.25rem;
  background: var(--theirs);
}
.message.own {
  align-self: flex-end;
  border-radius: 1rem 1rem 0.25rem 1rem;
  background: var(--mine);
  color: var(--mine-fg);
}
.message .name {
  display: block;
  font-size: 0.8rem;
  font-weight: 700;
  color: var(--fg);
  /* One lightness for every hue: every name reads as well as any other. */
  color: oklch(var(--name-l) 0.15 var(--hue, 260));
}
.text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
time { display: block; font-size: 0.7rem; opacity: 0.7; text-align: end; }
.system {
  align-self: center;
  text-align: center;
  font-size: 0.85rem;
  color: var(--muted);
}
.system time { display: inline; margin-inline-start: 0.4rem; }
.system.warning { color: var(--warn); }
.system.error { color: var(--bad); }
#outbox ol { list-style: none; margin: 0 0 0.5rem; padding: 0; display: grid; gap: 0.35rem; }
.pending {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.25rem 0.6rem;
  padding: 0.35rem 0.6rem;
  border: 1px dashed var(--muted);
  border-radius: 0.75rem;
}
.pending .text { flex: 1 1 10rem; }
.pending .note { font-size: 0.8rem; color: var(--muted); }
.pending[data-status="unconfirmed"] .note, .pending[data-status="failed"] .note { color: var(--bad); }
.pending .actions { display: flex; gap: 0.4rem; }
.pending button { padding: 0.2rem 0.6rem; font-size: 0.85rem; }
#composer { display: flex; gap: 0.5rem; }
#message { flex: 1; }
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}
`;

/**
 * What the page may do: scripts and styles from its own origin only (no inline script, so
 * markup that ever slipped into the page could not run), sockets to its own origin.
 */
export const CHAT_CSP: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const JS = "text/javascript; charset=utf-8";
const FILES: Record<string, { body: string; type: string }> = {
  "/": { body: CHAT_PAGE, type: "text/html; charset=utf-8" },
  "/chat.css": { body: CHAT_CSS, type: "text/css; charset=utf-8" },
  "/chat.js": { body: CHAT_VIEW, type: JS },
  "/chat_link.js": { body: CHAT_LINK, type: JS },
  "/client.js": { body: CLIENT_MODULE, type: JS },
};

/**
 * Answers a plain HTTP request for the chat page or one of the files it loads: `404` for
 * other paths, `405` for methods other than GET and HEAD.
 *
 * @param request The request.
 * @returns The response.
 */
export function chatPage(request: Request): Response {
  const path = new URL(request.url).pathname;
  const file = Object.hasOwn(FILES, path) ? FILES[path] : undefined;
  if (!file) return new Response("Not Found", { status: 404 });
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  return new Response(request.method === "HEAD" ? null : file.body, {
    headers: {
      "content-type": file.type,
      // Always asks again: a restarted server may serve a newer page.
      "cache-control": "no-cache",
      "content-security-policy": CHAT_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });
}
