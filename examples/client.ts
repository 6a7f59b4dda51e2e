#!/usr/bin/env -S deno run --allow-net
/**
 * A terminal client that survives server restarts: it connects to a URL (default: the local
 * chat), prints every message and every change of state, and sends each line typed on
 * standard input. Lines typed while the server is down are queued and go out, in order, once
 * it is back. End with Ctrl-D (or Ctrl-C).
 *
 *     ./examples/client.ts [flags] [URL]      (the shebang runs it on Deno with --allow-net)
 *     deno run --allow-net examples/client.ts [flags] [URL]
 *     bun run examples/client.ts [flags] [URL]
 *
 * Output: `< text` for a message, `* ...` for a state change. The heartbeat (`wskit:ping`,
 * answered by any wskit server) detects a link that died silently; `--no-heartbeat` turns it
 * off for servers that do not answer it.
 *
 * @module
 */

import { ReconnectingWebSocket } from "@wskit/wskit/client";
import type { Command } from "./_flags.ts";
import { commandLine, onShutdown, start, stdinLines, urlOf } from "./_cli.ts";

const CLIENT = {
  name: "client",
  about: "a terminal client that survives server restarts: typed lines out, messages in",
  deno: ["--allow-net"],
  flags: {
    noHeartbeat: { type: "boolean", help: "no wskit:ping heartbeat, for servers that ignore it" },
    url: {
      type: "operand",
      value: "URL",
      help: "the server to connect to",
      default: "ws://127.0.0.1:8000/",
      check: urlOf("ws:", "wss:", "http:", "https:"),
    },
  },
} satisfies Command;

const flags = commandLine(CLIENT);
const client = await start(
  CLIENT,
  [{ connect: flags.url }],
  () => new ReconnectingWebSocket(flags.url, undefined, { heartbeat: !flags.noHeartbeat }),
);
client.binaryType = "arraybuffer";

client.addEventListener("connecting", (e) => console.log(`* connecting (attempt ${e.attempt})`));
client.addEventListener("open", () => console.log(`* open ${client.url}`));
client.addEventListener("close", (e) => {
  const how = e.wasClean ? "clean" : "abnormal";
  console.log(`* close ${e.code} ${how}${e.reason ? `: ${e.reason}` : ""}`);
});
client.addEventListener("error", (e) => console.log(`* error: ${e.message}`));
client.addEventListener("reconnect", (e) => {
  console.log(`* reconnect #${e.attempt} in ${e.delay} ms`);
});
client.addEventListener("giveup", (e) => console.log(`* gave up (${e.reason})`));
client.addEventListener("drop", (e) => {
  console.log(`* dropped ${e.messages.length} message(s): ${e.reason}`);
});

const closed = new Promise<void>((resolve) => {
  client.addEventListener("close", () => {
    if (client.readyState === client.CLOSED) resolve();
  });
});

const typing = new AbortController();
onShutdown(() => {
  typing.abort();
  client.close(1000, "bye");
  return closed;
});

(async () => {
  for await (const message of client) {
    console.log(
      typeof message === "string"
        ? `< ${message}`
        : `< <${(message as ArrayBuffer).byteLength} bytes>`,
    );
  }
})();

for await (const line of stdinLines(typing.signal)) {
  if (line === "") continue;
  if (client.send(line) === "queued") console.log("* queued until connected");
}
client.close(1000, "bye");
await closed;
