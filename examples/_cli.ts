/**
 * The few things the examples need from the runtime that no Web standard offers: their
 * command-line arguments, standard input and a shutdown signal. This is the examples' one
 * runtime switch.
 *
 * @module
 */

interface DenoCli {
  args: string[];
  stdin: { readable: ReadableStream<Uint8Array> };
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  removeSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  unrefTimer(id: number): void;
  exit(code: number): never;
}
interface BunProcess {
  argv: string[];
  on(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  off(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  exit(code: number): never;
}

interface BunStdin {
  stdin: { stream(): ReadableStream<Uint8Array> };
}

const deno = (globalThis as unknown as { Deno?: DenoCli }).Deno;
const proc = (globalThis as unknown as { process?: BunProcess }).process;
const bun = (globalThis as unknown as { Bun?: BunStdin }).Bun;

/** The command-line arguments after the script name. */
export function args(): string[] {
  return deno ? deno.args : proc!.argv.slice(2);
}

/**
 * The values of `--name VALUE` (or `--name=VALUE`), in order; empty when absent.
 *
 * @throws {TypeError} When the option is given without a value.
 */
export function options(name: string): string[] {
  const all = args();
  const out: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    if (a === `--${name}`) {
      const value = all[++i];
      if (value === undefined || value.startsWith("--")) {
        throw new TypeError(`Cannot read --${name}: it needs a value`);
      }
      out.push(value);
    } else if (a.startsWith(`--${name}=`)) {
      out.push(a.slice(name.length + 3));
    }
  }
  return out;
}

/** The last value of `--name VALUE`, or `fallback`. */
export function option(name: string, fallback: string): string {
  return options(name).at(-1) ?? fallback;
}

/** Whether `--name` is present. */
export function flag(name: string): boolean {
  return args().includes(`--${name}`);
}

/**
 * `--port N` as a number (default 8000).
 *
 * @throws {RangeError} When it is not a port number.
 */
export function port(): number {
  const value = option("port", "8000");
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new RangeError(`Cannot listen: --port must be 0-65535, got ${value}`);
  }
  return n;
}

/**
 * The lines of standard input (without their line ends), until it ends or `signal` aborts:
 * a pending read would otherwise keep the process alive after a shutdown.
 */
export async function* stdinLines(signal?: AbortSignal): AsyncGenerator<string, void, undefined> {
  const stream = deno ? deno.stdin.readable : bun!.stdin.stream();
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => void reader.cancel().catch(() => {});
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop, { once: true });
  let rest = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        yield rest.slice(0, nl).replace(/\r$/, "");
        rest = rest.slice(nl + 1);
      }
    }
    if (rest) yield rest;
  } finally {
    signal?.removeEventListener("abort", stop);
    reader.releaseLock();
  }
}

/** The limits every example accepts: `--max-payload BYTES` and `--origin ORIGIN` (repeatable). */
export interface LimitFlags {
  maxPayloadBytes?: number;
  origins?: string[];
}

/**
 * Reads `--max-payload` and `--origin` for `serve()`.
 *
 * @throws {RangeError} When `--max-payload` is not a positive whole number.
 */
export function limitFlags(): LimitFlags {
  const flags: LimitFlags = {};
  const max = options("max-payload").at(-1);
  if (max !== undefined) {
    const n = Number(max);
    if (!Number.isInteger(n) || n <= 0) {
      throw new RangeError(
        `Cannot limit payloads: --max-payload must be a positive integer, got ${max}`,
      );
    }
    flags.maxPayloadBytes = n;
  }
  const origins = options("origin");
  if (origins.length > 0) flags.origins = origins;
  return flags;
}

/** How long the process may take to end by itself once `shutdown` has resolved. */
const EXIT_GRACE_MS = 500;

/**
 * Runs `shutdown` once, on the first Ctrl-C or SIGTERM; a second one ends the process at
 * once (the runtime's default). The process is not made to exit: it ends by itself once
 * `shutdown` has released everything it held (sockets, timers, relays, stores), which is what
 * shows that nothing leaks. Should anything still hold it {@linkcode EXIT_GRACE_MS} ms later,
 * it says so and exits (0: the shutdown itself went well). On Deno that happens when a socket
 * was dropped while closing: Deno leaves its idle timer running, for up to half the idle
 * timeout. When `shutdown` fails, it exits with 1.
 */
export function onShutdown(shutdown: () => Promise<void>): void {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const exit = (code: number) => (deno ?? proc!).exit(code);
  const handler = () => {
    for (const signal of signals) {
      if (deno) deno.removeSignalListener(signal, handler);
      else proc!.off(signal, handler);
    }
    shutdown().then(() => {
      const watchdog = setTimeout(() => {
        console.error(
          `Cannot end by itself: something still holds the process ${EXIT_GRACE_MS} ms after ` +
            "shutdown; exiting",
        );
        exit(0);
      }, EXIT_GRACE_MS);
      // The watchdog must not be what keeps the process alive.
      if (deno) deno.unrefTimer(watchdog as unknown as number);
      else (watchdog as unknown as { unref(): void }).unref();
    }, (error) => {
      console.error(error);
      exit(1);
    });
  };
  for (const signal of signals) {
    if (deno) deno.addSignalListener(signal, handler);
    else proc!.on(signal, handler);
  }
}
