/**
 * The broadcast chat of the classic tutorials, with its page on the same port: a newcomer
 * gets a welcome, everyone else hears that someone joined and later left, and every message
 * reaches every client, the sender included.
 *
 *     deno run --allow-net examples/chat.ts [--port 8000] [--max-payload BYTES] [--origin URL]...
 *     bun run examples/chat.ts [--port 8000] [--max-payload BYTES] [--origin URL]...
 *
 * Then open http://127.0.0.1:8000/ in two windows.
 *
 * @module
 */

import { serve } from "../mod.ts";
import { limitFlags, onShutdown, port } from "./_cli.ts";
import { CHAT_PAGE } from "./chat_page.ts";
import { CHAT_RATE_LIMIT, chatRoom } from "./chat_room.ts";

const server = await serve(chatRoom(), {
  port: port(),
  rateLimit: CHAT_RATE_LIMIT,
  ...limitFlags(),
  fetch(request) {
    if (new URL(request.url).pathname !== "/") return new Response("Not Found", { status: 404 });
    return new Response(CHAT_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  },
});

console.log(`chat listening on ${server.url} (page: ${server.url.replace("ws", "http")})`);
onShutdown(() => server.close());
