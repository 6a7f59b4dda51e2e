/**
 * The broadcast chat of the classic tutorials, with its page on the same port: a newcomer
 * gets a welcome, everyone else hears that someone joined and later left, and every message
 * reaches every client, the sender included.
 *
 *     deno run --allow-net examples/chat.ts [--port 8000] [--max-payload BYTES] [--origin URL]...
 *     bun run examples/chat.ts [--port 8000] [--max-payload BYTES] [--origin URL]...
 *
 * Then open http://127.0.0.1:8000/ in two windows. The page runs wskit's own
 * `ReconnectingWebSocket` (a committed browser build of `src/client.ts`, served at
 * `/client.js`), so it shows the connection's state and keeps what is written while the
 * server is away.
 *
 * @module
 */

import { serve } from "../mod.ts";
import { limitFlags, onShutdown, port } from "./_cli.ts";
import { chatPage } from "./chat_page.ts";
import { CHAT_RATE_LIMIT, chatRoom } from "./chat_room.ts";

const server = await serve(chatRoom(), {
  port: port(),
  rateLimit: CHAT_RATE_LIMIT,
  ...limitFlags(),
  // The page and the scripts it loads, wskit's client among them (see chat_page.ts).
  fetch: chatPage,
});

console.log(`chat listening on ${server.url} (page: ${server.url.replace("ws", "http")})`);
onShutdown(() => server.close());
