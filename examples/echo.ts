#!/usr/bin/env -S deno run --allow-net
/**
 * The echo server of the classic `ws` tutorial, on Web standards: every text and binary
 * message goes back to its sender. `--hello` adds the tutorial's "Hello?" every second,
 * with the timer freed when the client leaves (the tutorial leaks it).
 *
 *     ./examples/echo.ts [flags]      (the shebang runs it on Deno with --allow-net)
 *     deno run --allow-net examples/echo.ts [flags]
 *     bun run examples/echo.ts [flags]
 *
 * `--help` lists the flags: `--port`, `--hello`, `--max-payload`, `--origin`.
 *
 * @module
 */

import { type Hooks, serve } from "@wskit/wskit";
import type { Command } from "./_flags.ts";
import { commandLine, LIMITS, onShutdown, PORT, serveOptions, start } from "./_cli.ts";

const ECHO = {
  name: "echo",
  about: "the echo server of the ws tutorials: every message goes back to its sender",
  deno: ["--allow-net"],
  flags: {
    port: PORT,
    hello: { type: "boolean", help: 'say "Hello?" to every client every second' },
    ...LIMITS,
  },
} satisfies Command;

const flags = commandLine(ECHO);

const hooks: Hooks<{ timer: ReturnType<typeof setInterval> | undefined }> = {
  upgrade: () => ({ data: { timer: undefined } }),
  open(peer) {
    if (flags.hello) peer.data.timer = setInterval(() => peer.send("Hello?"), 1000);
  },
  message(peer, message) {
    peer.send(message);
  },
  close(peer) {
    clearInterval(peer.data.timer);
  },
};

const server = await start(
  ECHO,
  [{ listen: flags.port }],
  () => serve(hooks, serveOptions(flags)),
);

// Signals are handled before the line that says it is ready: a signal may follow at once.
onShutdown(() => server.close());
console.log(`echo server listening on ${server.url}`);
