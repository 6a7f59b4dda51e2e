/**
 * What every benchmark subject shares, on any runtime (the peers in `bench/peers/` use it on
 * Node too): its command line (`--mode echo|chat|fanout|session --port N`), the
 * `ready <port>` line the orchestrator waits for, and a `gc` command on stdin so that memory is read after a full collection (answered with
 * `gc done <bytes of JavaScript heap in use>`), and `exit` for a normal exit (profiles).
 *
 * Modes:
 * - `echo`: every message goes back to its sender;
 * - `chat`: every connection joins one room; a message goes to the whole room, sender
 *   included (Bun's chat benchmark);
 * - `fanout`: connections join one room, except one opened with `?pub`, whose messages go to
 *   the room;
 * - `session`: typed events; a `ping` event is answered with one `pong` event carrying the same
 *   payload, in the subject's own wire format (wskit sessions, Socket.IO).
 *
 * @module
 */

import {
  args,
  collectGarbage,
  exit,
  memoryUsage,
  stdinLines,
} from "../../tests/_support/this_process.ts";

/** The scenario a subject serves. */
export type Mode = "echo" | "chat" | "fanout" | "session";

const MODES: readonly string[] = ["echo", "chat", "fanout", "session"] satisfies Mode[];

function option(name: string): string | undefined {
  const all = args();
  const i = all.indexOf(`--${name}`);
  return i >= 0 ? all[i + 1] : undefined;
}

/**
 * The subject's mode and port from its command line.
 *
 * @throws {TypeError} When the mode is unknown.
 */
export function config(): { mode: Mode; port: number } {
  const mode = option("mode") ?? "echo";
  if (!MODES.includes(mode)) throw new TypeError(`Cannot serve: unknown --mode ${mode}`);
  return { mode: mode as Mode, port: Number(option("port") ?? "0") };
}

/** Tells the orchestrator the subject listens, and starts reading its commands. */
export function ready(port: number): void {
  console.log(`ready ${port}`);
  void commands();
}

async function commands(): Promise<void> {
  for await (const line of stdinLines()) {
    if (line === "gc") {
      collectGarbage();
      console.log(`gc done ${memoryUsage().heapUsed}`);
    } else if (line === "exit") {
      // A normal exit, so that --cpu-prof writes its profile.
      exit(0);
    }
  }
}
