/**
 * The echo server of the classic `ws` tutorial, on Web standards: every text and binary
 * message goes back to its sender. `--hello` adds the tutorial's "Hello?" every second,
 * with the timer freed when the client leaves (the tutorial leaks it).
 *
 *     deno run --allow-net examples/echo.ts [--port 8000] [--hello] [--max-payload BYTES] [--origin URL]...
 *     bun run examples/echo.ts [--port 8000] [--hello] [--max-payload BYTES] [--origin URL]...
 *
 * @module
 */

import { serve } from "@wskit/wskit";
import { flag, limitFlags, onShutdown, port } from "./_cli.ts";

const hello = flag("hello");

const server = await serve<{ timer: ReturnType<typeof setInterval> | undefined }>({
  upgrade: () => ({ data: { timer: undefined } }),
  open(peer) {
    if (hello) peer.data.timer = setInterval(() => peer.send("Hello?"), 1000);
  },
  message(peer, message) {
    peer.send(message);
  },
  close(peer) {
    clearInterval(peer.data.timer);
  },
}, { port: port(), ...limitFlags() });

console.log(`echo server listening on ${server.url}`);
onShutdown(() => server.close());
