/**
 * The full chat application: the broadcast chat of `examples/chat.ts` on wskit's session
 * layer, so that a tab that loses its connection for a few seconds misses no message, with
 * its page on the same port (`./web/`: names kept across visits, an outbox of what waits to
 * be sent, the connection's state). Plain WebSocket clients (`wscat`) share the room with the
 * pages (`./room.ts` says what they speak).
 *
 *     deno task start:app [flags]
 *
 * which builds the browser module that wskit serves at `/wskit/client.js` (`deno task
 * build:browser`) and runs `deno run --allow-net examples/chat_app/main.ts`. On Bun, after
 * that build: `bun run examples/chat_app/main.ts [flags]`.
 *
 * `--help` lists the flags (`--port`, `--redis URL`, `--max-payload`, `--origin`, ...). With
 * `--redis`, every instance started with the same Redis shares the room, whatever its
 * runtime, and a page resumes on whichever instance it reaches. For every core of one
 * machine, see `./serve.ts`.
 *
 * Then open http://127.0.0.1:8000/ in two windows. With `--cert FILE --key FILE` (PEM; on
 * Deno add `--allow-read`) it serves https and wss instead: open https://127.0.0.1:8000/.
 *
 * @module
 */

import { metrics, serve } from "@wskit/wskit";
import { MemoryStore } from "@wskit/wskit/session";
import { RedisRelay, RedisStore } from "@wskit/wskit/redis";
import type { Command } from "../_flags.ts";
import {
  commandLine,
  LIMITS,
  type NetUse,
  onShutdown,
  PORT,
  refuse,
  serveOptions,
  start,
  urlOf,
} from "../_cli.ts";
import { chatPage } from "./files.ts";
import { CHAT_RATE_LIMIT, chatApp } from "./room.ts";

const APP = {
  name: "chat_app",
  about: "the chat on wskit's session layer: a tab that reconnects misses nothing",
  deno: ["--allow-net"],
  flags: {
    port: PORT,
    redis: {
      type: "string",
      value: "URL",
      help: "share the room and its sessions with every instance using this Redis",
      check: urlOf("redis:"),
    },
    ...LIMITS,
    metrics: { type: "boolean", help: "answer GET /metrics with the counters, for Prometheus" },
    cert: {
      type: "string",
      value: "FILE",
      help: "serve https and wss with this PEM certificate chain (Deno: add --allow-read)",
    },
    key: { type: "string", value: "FILE", help: "the PEM private key of --cert" },
  },
} satisfies Command;

/** Node's `fs`, which Deno 2 and Bun both have, as far as it is used here. */
interface NodeFs {
  readFile(path: string, encoding: "utf8"): Promise<string>;
}

/** The text of `--cert` and `--key`, or `undefined` without them. */
async function tlsFiles(cert: string | undefined, key: string | undefined) {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) refuse(APP, "--cert and --key go together");
  // A variable, so that Deno's type check does not look for Node's types.
  const fsSpecifier = "node:fs/promises";
  const fs = (await import(fsSpecifier)) as NodeFs;
  try {
    return { cert: await fs.readFile(cert, "utf8"), key: await fs.readFile(key, "utf8") };
  } catch (error) {
    return refuse(
      APP,
      (error as Error).name === "NotCapable"
        ? "reading --cert and --key needs Deno's --allow-read"
        : `cannot read --cert or --key: ${(error as Error).message}`,
    );
  }
}

/** `serve()`'s refusal of the certificate or key, said as a command line to change. */
function refusedTls(error: unknown): never {
  const message = error instanceof Error ? error.message : "";
  if (/^Cannot serve: .*tls\./.test(message)) {
    refuse(APP, `--cert and --key: ${message.slice("Cannot serve: ".length)}`);
  }
  throw error;
}

const flags = commandLine(APP);
const redis = flags.redis;
const uses: NetUse[] = [{ listen: flags.port }, ...(redis ? [{ connect: redis }] : [])];
const tls = await tlsFiles(flags.cert, flags.key);

const server = await start(APP, uses, async () => {
  const page = await chatPage();
  const shared = redis === undefined ? {} : {
    relay: new RedisRelay({ url: redis, channel: "wskit-chat" }),
    store: new RedisStore({ url: redis, prefix: "wskit-chat" }),
  };
  const store = shared.store ?? new MemoryStore();
  const app = chatApp({ store });
  // Redis holds RedisStore's logs: their bytes are Redis's to report.
  const scraped = { sessions: app, ...(store instanceof MemoryStore && { store }) };
  const fetch = (request: Request): Response =>
    flags.metrics && new URL(request.url).pathname === "/metrics"
      ? metrics(server, scraped)
      : page(request);
  try {
    return await serve(app.hooks, {
      ...serveOptions(flags),
      rateLimit: CHAT_RATE_LIMIT,
      ...(shared.relay ? { relay: shared.relay } : {}),
      ...(tls && { tls }),
      fetch,
    });
  } catch (error) {
    return refusedTls(error);
  }
});

// Signals are handled before the line that says it is ready: a signal may follow at once.
onShutdown(() => server.close());
console.log(
  `chat listening on ${server.url} (page: ${server.url.replace("ws", "http")})` +
    (redis ? ` sharing the room through ${redis}` : ""),
);
