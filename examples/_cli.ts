/**
 * What the examples share about running as commands: their flags (declared with
 * `_flags.ts`), what they print and how they exit when they cannot start, Deno's permissions,
 * standard input and shutdown signals. This is the examples' one runtime switch.
 *
 * Exit status: 0 after a signal (or `--help`), 1 when an example cannot start for a reason
 * outside its command line (its port in use), 2 when the command line must change (an
 * unknown flag, a bad value, a missing Deno permission). Each such case prints one line on
 * standard error, never a stack trace; anything else is a bug and is left uncaught.
 *
 * @module
 */

import type { ServeOptions } from "@wskit/wskit";
import {
  type Command,
  type Flags,
  type IntegerFlag,
  type ListFlag,
  parse,
  usage,
  UsageError,
  type Values,
} from "./_flags.ts";

interface DenoCli {
  args: string[];
  mainModule: string;
  cwd(): string;
  permissions: { querySync(p: { name: "net"; host: string }): { state: string } };
  stdin: { readable: ReadableStream<Uint8Array> };
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  removeSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  unrefTimer(id: number): void;
  exit(code: number): never;
}
interface BunProcess {
  argv: string[];
  cwd(): string;
  on(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  off(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  exit(code: number): never;
}

interface BunCli {
  main: string;
  stdin: { stream(): ReadableStream<Uint8Array> };
}

const deno = (globalThis as unknown as { Deno?: DenoCli }).Deno;
const proc = (globalThis as unknown as { process?: BunProcess }).process;
const bun = (globalThis as unknown as { Bun?: BunCli }).Bun;

/** The command-line arguments after the script name. */
function args(): string[] {
  return deno ? deno.args : proc!.argv.slice(2);
}

function exit(code: number): never {
  return (deno ?? proc!).exit(code);
}

/** The address every example listens on: loopback only. */
export const HOST = "127.0.0.1";

/** `--port N`, which every server example takes. */
export const PORT = {
  type: "integer",
  value: "N",
  min: 0,
  max: 65535,
  default: 8000,
  help: `the port to listen on at ${HOST}; 0 picks a free one`,
} satisfies IntegerFlag;

/** A check that a value is a URL of one of `schemes` (`"ws:"`). */
export function urlOf(...schemes: string[]): (value: string) => string | undefined {
  return (value) => {
    try {
      if (schemes.includes(new URL(value).protocol)) return undefined;
    } catch { /* said below */ }
    return `must be a ${schemes.join(", ").replace(/, ([^,]*)$/, " or $1")} URL`;
  };
}

/** `--max-payload BYTES` and `--origin ORIGIN`, which every server example takes. */
export const LIMITS = {
  maxPayload: {
    type: "integer",
    value: "BYTES",
    min: 1,
    help: "close a client with 1009 when it sends a larger message",
  } satisfies IntegerFlag,
  origin: {
    type: "list",
    value: "ORIGIN",
    help: "let pages of ORIGIN connect instead of the server's own; * for any",
    check: (value) =>
      value === "*" || !urlOf("http:", "https:")(value)
        ? undefined
        : "must be * or an origin such as https://example.com",
  } satisfies ListFlag,
};

/**
 * How long a server example waits for its clients' closing handshakes after a signal before it
 * drops them (`serve()` waits 3 s by default), so that a client that never answers cannot hold
 * a shutdown for seconds: on loopback, every other client answers in far less. (On Deno,
 * `close()` then waits as long again for the runtime to let go of the dropped sockets.)
 */
export const CLOSE_TIMEOUT_MS = 300;

/** The `serve()` options of a server example: where it listens, {@linkcode LIMITS}, shutdown. */
export function serveOptions(
  flags: { port: number; maxPayload: number | undefined; origin: string[] },
): ServeOptions {
  return {
    hostname: HOST,
    port: flags.port,
    closeTimeout: CLOSE_TIMEOUT_MS,
    ...(flags.maxPayload !== undefined && { maxPayloadBytes: flags.maxPayload }),
    ...(flags.origin.length > 0 && { origins: flags.origin }),
  };
}

/** A reason an example cannot start that is not its command line: it exits 1 with the message. */
export class StartError extends Error {
  override name = "StartError";
}

/** Prints `<example>: <message>` on standard error and exits with `code`. */
function fail(cmd: Command, code: 1 | 2, message: string): never {
  console.error(`${cmd.name}: ${message}`);
  return exit(code);
}

/** The running script as the user can type it: relative to the working directory if in it. */
function script(): string {
  const path = deno ? decodeURIComponent(new URL(deno.mainModule).pathname) : bun!.main;
  const cwd = `${(deno ?? proc!).cwd()}/`;
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

/** `text` as one shell word. */
function quote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The command that runs this script on `runtime`, with the permissions it needs on Deno. */
function runLine(cmd: Command, runtime: "deno" | "bun"): string {
  const file = quote(script());
  return runtime === "deno" ? ["deno run", ...cmd.deno, file].join(" ") : `bun run ${file}`;
}

/**
 * Refuses the command line for `reason` (`"--cert and --key go together"`), as
 * {@linkcode commandLine} does for what `_flags.ts` finds: one line on standard error,
 * `<example>: Cannot start: <reason> (see --help)`, and exit status 2. For the checks that
 * span flags or need a file.
 */
export function refuse(cmd: Command, reason: string): never {
  return fail(cmd, 2, `Cannot start: ${reason} (see --help)`);
}

/**
 * Reads the command line of `cmd`. With `-h` or `--help` it prints the usage on standard
 * output and exits 0; when the command line is wrong it prints one line on standard error,
 * `<example>: Cannot start: <reason> (see --help)`, and exits 2.
 */
export function commandLine<S extends Flags>(cmd: Command<S>): Values<S> {
  let values: Values<S> | "help";
  try {
    values = parse(cmd.flags, args());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return refuse(cmd, error.message);
  }
  if (values !== "help") return values;
  console.log(usage(cmd, { deno: runLine(cmd, "deno"), bun: runLine(cmd, "bun") }));
  return exit(0);
}

/** What an example does on the network: listen on `HOST` at a port, or connect to a URL. */
export type NetUse = { listen: number } | { connect: string };

/** What `use` is, in words, and the host Deno's net permission names for it. */
function described(use: NetUse): [what: string, host: string] {
  if ("listen" in use) return [`listen on ${HOST}:${use.listen}`, `${HOST}:${use.listen}`];
  const url = new URL(use.connect);
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  const host = `${url.hostname}:${
    url.port || (url.protocol === "redis:" ? 6379 : secure ? 443 : 80)
  }`;
  return [`connect to ${host}`, host];
}

/** The line for a missing Deno permission: the command that has it. */
function permissionLine(cmd: Command, what: string): string {
  const run = [runLine(cmd, "deno"), ...args().map(quote)].join(" ");
  return `Cannot ${what}: Deno needs ${cmd.deno.join(" ")}; run it as ${run}`;
}

/** Whether the error is the runtime's "address in use" (Deno `AddrInUse`, Bun `EADDRINUSE`). */
function inUse(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | null;
  return e?.name === "AddrInUse" || e?.code === "EADDRINUSE";
}

/**
 * Starts an example with `begin`, which does the network `uses` (the first place in Deno's
 * permission check and in messages). On Deno, a use it may not make is said up front, with
 * the command line that allows it, instead of a prompt or a `NotCapable` trace; that, a port
 * in use and a {@linkcode StartError} print one line and exit (see the module doc).
 */
export async function start<T>(
  cmd: Command,
  uses: NetUse[],
  begin: () => T | Promise<T>,
): Promise<T> {
  for (const use of deno ? uses : []) {
    const [what, host] = described(use);
    const { state } = deno!.permissions.querySync({ name: "net", host });
    if (state !== "granted") fail(cmd, 2, permissionLine(cmd, what));
  }
  try {
    return await begin();
  } catch (error) {
    const listen = uses.find((use) => "listen" in use);
    if (listen && inUse(error)) {
      fail(cmd, 1, `Cannot ${described(listen)[0]}: the port is in use`);
    }
    if ((error as Error | null)?.name === "NotCapable") {
      fail(cmd, 2, permissionLine(cmd, described(uses[0]!)[0]));
    }
    if (error instanceof StartError) fail(cmd, 1, error.message);
    throw error;
  }
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
