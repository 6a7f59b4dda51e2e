/**
 * The chat app on every core of one machine: `deno serve --parallel` runs this module in one
 * worker per core, and a `BroadcastChannelRelay` joins their rooms, so that everyone shares
 * one chat whichever worker the kernel gave them.
 *
 *     deno task build:browser
 *     deno serve --parallel --allow-net --host 127.0.0.1 --port 8000 examples/chat_app/serve.ts
 *
 * (`deno serve` listens on every interface, 0.0.0.0, unless told `--host`.) Each worker keeps
 * its own sessions: a page that reconnects to another worker starts a new session (and says it
 * may have missed messages). For resume across workers and machines, run `./main.ts --redis`
 * instead. (`deno serve` requires the default export.)
 *
 * Ctrl-C or SIGTERM ends it: `deno serve` stops its HTTP server, and each worker closes its
 * sockets (1001) and its relay, whose open channel would otherwise keep the process alive.
 *
 * @module
 */

import { createHandler } from "@wskit/wskit/deno";
import { BroadcastChannelRelay } from "@wskit/wskit/broadcast-channel";
import { CLOSE_TIMEOUT_MS, onShutdown } from "../_cli.ts";
import { chatPage } from "./files.ts";
import { CHAT_RATE_LIMIT, chatApp } from "./room.ts";

const files = await chatPage();
const ws = createHandler(chatApp().hooks, {
  relay: new BroadcastChannelRelay("chat"),
  rateLimit: CHAT_RATE_LIMIT,
  closeTimeout: CLOSE_TIMEOUT_MS,
});

// deno serve's own listener shuts its HTTP server down; every worker receives the signal,
// but only once it has loaded: a signal before that is lost on a worker still loading
// (Deno 2.9), hence one line per worker when it is ready.
onShutdown(() => ws.close());
console.log("chat worker ready");

export default {
  fetch(request: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response> {
    // The handler takes the upgrades and `/wskit/client.js` (the page's SessionClient).
    const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
    const forWskit = upgrade || new URL(request.url).pathname === "/wskit/client.js";
    return forWskit ? ws.handleUpgrade(request, info) : files(request);
  },
};
