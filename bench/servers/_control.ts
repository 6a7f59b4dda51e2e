/**
 * What every benchmark subject shares, on either runtime: its command line
 * (`--mode echo|chat|fanout --port N`), the `ready <port>` line the orchestrator waits for,
 * and a `gc` command on stdin so that memory is read after a full collection (answered with
 * `gc done <bytes of JavaScript heap in use>`), and `exit` for a normal exit (profiles).
 *
 * Modes:
 * - `echo`: every message goes back to its sender;
 * - `chat`: every connection joins one room; a message goes to the whole room, sender
 *   included (Bun's chat benchmark);
 * - `fanout`: connections join one room, except one opened with `?pub`, whose messages go to
 *   the room.
 *
 * @module
 */

/** The scenario a subject serves. */
export type Mode = "echo" | "chat" | "fanout";

interface DenoLike {
  args: string[];
  exit(code: number): never;
  stdin: { readable: ReadableStream<Uint8Array> };
  memoryUsage(): { heapUsed: number };
}
interface BunLike {
  argv: string[];
  stdin: { stream(): ReadableStream<Uint8Array> };
  gc(force: boolean): void;
}

const deno = (globalThis as unknown as { Deno?: DenoLike }).Deno;
const bun = (globalThis as unknown as { Bun?: BunLike }).Bun;

function argv(): string[] {
  return deno ? deno.args : bun!.argv.slice(2);
}

function option(name: string): string | undefined {
  const all = argv();
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
  if (mode !== "echo" && mode !== "chat" && mode !== "fanout") {
    throw new TypeError(`Cannot serve: unknown --mode ${mode}`);
  }
  return { mode, port: Number(option("port") ?? "0") };
}

/** Tells the orchestrator the subject listens, and starts reading its commands. */
export function ready(port: number): void {
  console.log(`ready ${port}`);
  void commands();
}

async function commands(): Promise<void> {
  const stream = deno ? deno.stdin.readable : bun!.stdin.stream();
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, nl).trim();
      text = text.slice(nl + 1);
      if (line === "gc") {
        collect();
        console.log(`gc done ${heapUsed()}`);
      } else if (line === "exit") {
        // A normal exit, so that --cpu-prof writes its profile.
        (deno ?? (globalThis as unknown as { process: { exit(code: number): never } }).process)
          .exit(0);
      }
    }
  }
}

/** Bytes of the JavaScript heap in use. */
function heapUsed(): number {
  if (deno) return deno.memoryUsage().heapUsed;
  const proc = (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number } } })
    .process;
  return proc.memoryUsage().heapUsed;
}

/** A full garbage collection (Deno needs `--v8-flags=--expose-gc`). */
function collect(): void {
  if (bun) {
    bun.gc(true);
    return;
  }
  const gc = (globalThis as unknown as { gc?: () => void }).gc;
  if (!gc) throw new Error("Cannot collect garbage: run Deno with --v8-flags=--expose-gc");
  gc();
  gc();
}
