/**
 * The chat page that `examples/chat.ts` serves at `/`, kept in a module (not a file read at
 * run time) so that the example needs no permission beyond `--allow-net`.
 *
 * @module
 */

/** The page. Everything from other people is inserted with `textContent`, never as HTML. */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wskit chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: .5rem 1rem; background: #1f2937; color: #fff; display: flex; gap: 1rem; align-items: center; }
  #log { flex: 1; overflow-y: auto; list-style: none; margin: 0; padding: 1rem; }
  #log li.system { color: #6b7280; font-style: italic; }
  form { display: flex; gap: .5rem; padding: .5rem 1rem; border-top: 1px solid #e5e7eb; }
  #text { flex: 1; }
</style>
</head>
<body>
<header><strong>wskit chat</strong><span id="state">connecting</span><span id="online"></span></header>
<ul id="log" aria-live="polite"></ul>
<form id="form"><label for="text">Message</label><input id="text" autocomplete="off"><button>Send</button></form>
<script type="module">
const log = document.getElementById("log");
const add = (text, cls) => {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  log.append(li);
  li.scrollIntoView();
};
const ws = new WebSocket(location.href.replace(/^http/, "ws"));
ws.onopen = () => document.getElementById("state").textContent = "connected";
ws.onclose = () => document.getElementById("state").textContent = "offline";
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if ("online" in m) document.getElementById("online").textContent = m.online + " online";
  if (m.type === "welcome") add("Welcome, " + m.name + "!", "system");
  else if (m.type === "join") add(m.name + " joined", "system");
  else if (m.type === "leave") add(m.name + " left", "system");
  else if (m.type === "rename") add(m.from + " is now " + m.name, "system");
  else if (m.type === "message") add(m.name + ": " + m.text);
  else if (m.type === "error") add(m.error, "system");
};
document.getElementById("form").onsubmit = (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  if (input.value.startsWith("/name ")) ws.send(JSON.stringify({ type: "name", name: input.value.slice(6) }));
  else if (input.value) ws.send(JSON.stringify({ type: "message", text: input.value }));
  input.value = "";
};
</script>
</body>
</html>
`;
