/**
 * The broadcast chat of the classic tutorials, with its page on the same port: a newcomer
 * gets a welcome, everyone else hears that someone joined and later left, and every message
 * reaches every client, the sender included. The page is a session client, so a tab that
 * loses its connection for a few seconds misses no message (`examples/chat_room.ts`).
 *
 *     deno run --allow-net examples/chat.ts [--port 8000] [--redis redis://HOST:PORT]
 *     bun run examples/chat.ts [--port 8000] [--redis redis://HOST:PORT]
 *
 * Also `--max-payload BYTES` and `--origin URL` (repeatable). With `--redis`, every instance
 * started with the same Redis shares the room, whatever its runtime, and a page resumes on
 * whichever instance it reaches.
 *
 * Then open http://127.0.0.1:8000/ in two windows.
 *
 * @module
 */

import { serve } from "@wskit/wskit";
import { RedisRelay, RedisStore } from "@wskit/wskit/redis";
import { limitFlags, onShutdown, option, port } from "./_cli.ts";
import { chatPage } from "./chat_page.ts";
import { CHAT_RATE_LIMIT, chatApp } from "./chat_room.ts";

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
  // The page and the scripts it loads, wskit's client among them (see chat_page.ts).
  fetch: chatPage,
});

console.log(
  `chat listening on ${server.url} (page: ${server.url.replace("ws", "http")})` +
    (redis ? ` sharing the room through ${redis}` : ""),
);
onShutdown(() => server.close());
