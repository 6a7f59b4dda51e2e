/**
 * The chat on every core of one machine: `deno serve --parallel` runs this module in one
 * worker per core, and a `BroadcastChannelRelay` joins their rooms, so that everyone shares
 * one chat whichever worker the kernel gave them.
 *
 *     deno serve --parallel --allow-net --port 8000 examples/chat_serve.ts
 *
 * Each worker keeps its own sessions: a page that reconnects to another worker starts a new
 * session (and says it may have missed messages). For resume across workers and machines,
 * run `examples/chat.ts --redis` instead. (`deno serve` requires the default export.)
 *
 * @module
 */

import { createHandler } from "../src/adapters/deno.ts";
import { BroadcastChannelRelay } from "../src/relay/broadcast_channel.ts";
import { chatPage } from "./chat_page.ts";
import { CHAT_RATE_LIMIT, chatApp } from "./chat_room.ts";

const ws = createHandler(chatApp().hooks, {
  relay: new BroadcastChannelRelay("chat"),
  rateLimit: CHAT_RATE_LIMIT,
});

export default {
  fetch(request: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response> {
    const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
    return upgrade ? ws.handle(request, info) : chatPage(request);
  },
};
