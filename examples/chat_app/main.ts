/**
 * The full chat application: the broadcast chat of `examples/chat.ts` on wskit's session
 * layer, so that a tab that loses its connection for a few seconds misses no message, with
 * its page on the same port (`./web/`: names kept across visits, an outbox of what waits to
 * be sent, the connection's state). Plain WebSocket clients (`wscat`) share the room with the
 * pages (`./room.ts` says what they speak).
 *
 *     deno task start:app [--port 8000] [--redis redis://HOST:PORT]
 *
 * which builds the page's copy of wskit's client (`deno task build:client`, into
 * `./build/client.js`) and runs `deno run --allow-net examples/chat_app/main.ts`. On Bun,
 * after that build: `bun run examples/chat_app/main.ts [--port 8000] [--redis URL]`.
 *
 * Also `--max-payload BYTES` and `--origin URL` (repeatable). With `--redis`, every instance
 * started with the same Redis shares the room, whatever its runtime, and a page resumes on
 * whichever instance it reaches. For every core of one machine, see `./serve.ts`.
 *
 * Then open http://127.0.0.1:8000/ in two windows.
 *
 * @module
 */

import { serve } from "@wskit/wskit";
import { RedisRelay, RedisStore } from "@wskit/wskit/redis";
import { limitFlags, onShutdown, option, port } from "../_cli.ts";
import { chatPage } from "./files.ts";
import { CHAT_RATE_LIMIT, chatApp } from "./room.ts";

const redis = option("redis", "");
const shared = redis === "" ? {} : {
  relay: new RedisRelay({ url: redis, channel: "wskit-chat" }),
  store: new RedisStore({ url: redis, prefix: "wskit-chat" }),
};

const app = chatApp(shared.store ? { store: shared.store } : {});
const server = await serve(app.hooks, {
  port: port(),
  rateLimit: CHAT_RATE_LIMIT,
  ...limitFlags(),
  ...(shared.relay ? { relay: shared.relay } : {}),
  fetch: await chatPage(),
});

console.log(
  `chat listening on ${server.url} (page: ${server.url.replace("ws", "http")})` +
    (redis ? ` sharing the room through ${redis}` : ""),
);
onShutdown(() => server.close());
