/**
 * Child processes on both runtimes (`Deno.Command`, `Bun.spawn`): the examples as real
 * servers, the other runtime as a client, and the benchmark's subjects and load client
 * (pinned to a CPU with `taskset`, all killed when a run is interrupted).
 */

import { assert, assertEquals } from "@std/assert";
import { which } from "./harness.ts";
import { readLines } from "./this_process.ts";
import { freePort } from "./tcp.ts";
import { deferred, waitFor, within } from "./wait.ts";

/** The repository root, as a path ending in "/". */
export const root: string = decodeURIComponent(new URL("../..", import.meta.url).pathname);

/** The path of a runtime's binary installed by `npm install`, or else the one on PATH. */
export function runtimeBin(runtime: "deno" | "bun"): string {
  const local = `${root}node_modules/.bin/${runtime}`;
  return which(local) ?? which(runtime) ?? local;
}

/** A running child process whose output lines are collected. */
export interface Child {
  readonly pid: number;
  /** Every output line so far, stdout and stderr interleaved as they arrived. */
  readonly lines: string[];
  /** Everything on stderr so far. */
  stderr(): string;
  /** Resolves with the first output line (past or future) that matches `re`. */
  waitForLine(re: RegExp, timeout?: number): Promise<string>;
  /** Resolves with the first output line from now on that matches `re` (an answer). */
  nextLine(re: RegExp, timeout?: number): Promise<string>;
  /** Calls `listener` with every output line from now on. */
  onLine(listener: (line: string) => void): void;
  /** Sends a signal. */
  kill(signal?: "SIGTERM" | "SIGKILL" | "SIGINT" | "SIGSTOP" | "SIGCONT"): void;
  /** Sends `signal` (SIGKILL unless told otherwise) and resolves with the exit code. */
  stop(signal?: "SIGTERM" | "SIGKILL" | "SIGINT"): Promise<number>;
  /** Writes to stdin. */
  write(text: string): Promise<void>;
  /** Resolves with the exit code once the process has exited and its output is read. */
  readonly exited: Promise<number>;
}

interface DenoSpawn {
  Command: new (cmd: string, o: unknown) => {
    spawn(): {
      pid: number;
      stdout: ReadableStream<Uint8Array>;
      stderr: ReadableStream<Uint8Array>;
      stdin: WritableStream<Uint8Array>;
      status: Promise<{ code: number; signal: string | null }>;
      kill(s?: string): void;
    };
  };
}
interface BunSpawn {
  spawn(cmd: string[], o: unknown): {
    pid: number;
    stdout: ReadableStream<Uint8Array>;
    stderr: ReadableStream<Uint8Array>;
    stdin: { write(t: string): void; flush(): void; end(): void };
    exited: Promise<number>;
    kill(s?: string | number): void;
  };
}

const deno = (globalThis as unknown as { Deno?: DenoSpawn }).Deno;
const bun = (globalThis as unknown as { Bun?: BunSpawn }).Bun;

async function collect(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void) {
  try {
    for await (const line of readLines(stream)) onLine(line);
  } catch { /* the process went away */ }
}

/** Every child still running, so that an interrupted benchmark can kill them all. */
const alive = new Set<Child>();
/** Set by `killAll()`: no child may start after it. */
let stopping = false;
/** Stderr kept per child: enough for any report, bounded for a child that floods it. */
const STDERR_KEPT = 100_000;

/**
 * Spawns `cmd args` with piped stdin, stdout and stderr, and `env` added to the environment.
 *
 * @throws {Error} After `killAll()`.
 */
export function spawn(cmd: string, args: string[], env: Record<string, string> = {}): Child {
  if (stopping) throw new Error("Cannot start a process: every child is being killed");
  const lines: string[] = [];
  let err = "";
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const listeners: ((line: string) => void)[] = [];
  const onLine = (line: string) => {
    lines.push(line);
    for (const listener of listeners) listener(line);
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  const onErrLine = (line: string) => {
    if (err.length < STDERR_KEPT) err += `${line}\n`;
    onLine(line);
  };
  let pid: number;
  let kill: (s: string) => void;
  let write: (t: string) => Promise<void>;
  let exitCode: Promise<number>;
  let closeStdin: () => Promise<void>;
  if (deno) {
    const p = new deno.Command(cmd, {
      args,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    pid = p.pid;
    kill = (s) => {
      try {
        p.kill(s);
      } catch { /* already gone */ }
    };
    const stdin = p.stdin.getWriter();
    const enc = new TextEncoder();
    write = (t) => stdin.write(enc.encode(t));
    closeStdin = () => stdin.close().catch(() => {});
    const out = collect(p.stdout, onLine);
    const errs = collect(p.stderr, onErrLine);
    exitCode = Promise.all([p.status, out, errs]).then(([s]) => s.code);
  } else {
    const p = bun!.spawn([cmd, ...args], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: {
        ...(globalThis as unknown as { process: { env: Record<string, string> } }).process.env,
        ...env,
      },
    });
    pid = p.pid;
    kill = (s) => p.kill(s);
    write = (t) => {
      p.stdin.write(t);
      p.stdin.flush();
      return Promise.resolve();
    };
    closeStdin = () => {
      try {
        p.stdin.end();
      } catch { /* closed */ }
      return Promise.resolve();
    };
    const out = collect(p.stdout, onLine);
    const errs = collect(p.stderr, onErrLine);
    exitCode = Promise.all([p.exited, out, errs]).then(([c]) => c);
  }
  const exited = exitCode.then(async (c) => {
    await closeStdin();
    return c;
  });
  const child: Child = {
    pid,
    lines,
    stderr: () => err,
    waitForLine(re, timeout = 10_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return child.nextLine(re, timeout);
    },
    nextLine(re, timeout = 10_000) {
      const d = deferred<string>();
      waiters.push({ re, resolve: d.resolve });
      const failed = exited.then((code) => {
        throw new Error(
          `process exited (${code}) before printing ${re}; stderr:\n${err}\nstdout:\n${
            lines.join("\n")
          }`,
        );
      });
      return within(Promise.race([d.promise, failed]), `a line matching ${re}`, timeout);
    },
    onLine: (listener) => void listeners.push(listener),
    kill: (s = "SIGTERM") => kill(s),
    stop(s = "SIGKILL") {
      kill(s);
      return exited;
    },
    write: (t) => write(t),
    exited,
  };
  alive.add(child);
  exited.then(() => alive.delete(child));
  return child;
}

/**
 * Waits for `child` to print a line matching `re` (its ready line) and returns it; a child
 * that does not print it in time, or exits first, is killed before this rejects.
 */
export async function waitForStart(child: Child, re: RegExp, timeout = 15_000): Promise<string> {
  try {
    return await child.waitForLine(re, timeout);
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/**
 * Runs `cmd args` to its end, killed after `ms`; resolves with what went wrong (the exit code
 * and the first lines of stderr, where tools such as npm say what failed), or `undefined`.
 */
export async function runToEnd(
  cmd: string,
  args: string[],
  ms: number,
  env: Record<string, string> = {},
): Promise<string | undefined> {
  const child = spawn(cmd, args, env);
  try {
    const code = await within(child.exited, `${cmd} ${args[0]}`, ms);
    if (code === 0) return undefined;
    const said = child.stderr().trim().split("\n").filter(Boolean).slice(0, 3).join(" / ");
    return `${cmd} ${args[0]} exited with ${code}: ${said.slice(0, 400)}`;
  } catch (e) {
    await child.stop();
    return (e as Error).message;
  }
}

/** Kills every child still running, and refuses new ones (an interrupted benchmark). */
export async function killAll(): Promise<void> {
  stopping = true;
  await Promise.all([...alive].map((child) => child.stop()));
}

/** `[cmd, args]` run on CPU `cpu` with `taskset`, or unchanged when `cpu` is undefined. */
export function onCpu(
  cpu: number | undefined,
  [cmd, args]: [string, string[]],
): [string, string[]] {
  return cpu === undefined ? [cmd, args] : ["taskset", ["-c", String(cpu), cmd, ...args]];
}

/** Whether `taskset` can pin processes to a CPU here. */
export async function canPin(): Promise<boolean> {
  try {
    return await spawn(...onCpu(0, ["true", []])).exited === 0;
  } catch {
    return false;
  }
}

/** Flags of {@linkcode runArgs} for each runtime, before the file. */
export interface RunFlags {
  /** Deno's flags (permissions, `--v8-flags`, ...). Default `["--allow-net"]`. */
  deno?: string[];
  /** Bun's flags. Default none. */
  bun?: string[];
}

/**
 * Arguments that run `file` (from the repository root, or an absolute path) on `runtime` as
 * the README says: `--allow-net` only on Deno, unless `flags` says otherwise.
 */
export function runArgs(
  runtime: "deno" | "bun",
  file: string,
  args: string[] = [],
  flags: RunFlags = {},
): [string, string[]] {
  const path = file.startsWith("/") ? file : `${root}${file}`;
  return runtime === "deno"
    ? [runtimeBin("deno"), ["run", ...(flags.deno ?? ["--allow-net"]), path, ...args]]
    : [runtimeBin("bun"), ["run", ...(flags.bun ?? []), path, ...args]];
}

/** A started example and the URL it printed. */
export interface RunningExample {
  child: Child;
  url: string;
  port: number;
  /** Sends `signal` (default SIGTERM) and waits for the process to exit; returns the exit code. */
  stop(signal?: "SIGTERM" | "SIGINT"): Promise<number>;
}

/** Waits for `child` to print a `ws://` or `http://` URL, then wraps it; kills it on failure. */
async function running(child: Child, what: string, url: RegExp): Promise<RunningExample> {
  const line = await waitForStart(child, url);
  const ws = url.exec(line)![0].replace(/^http/, "ws");
  return {
    child,
    url: ws,
    port: Number(new URL(ws).port),
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      return await within(child.exited, `exit of ${what}`, 10_000);
    },
  };
}

/** The builds run so far in this process, by script. */
const builds = new Map<string, Promise<void>>();

/** Runs a build script of `scripts/` once per test process. */
function buildOnce(script: string, what: string): Promise<void> {
  let build = builds.get(script);
  if (!build) {
    build = (async () => {
      const flags = ["--allow-read", "--allow-write", "--allow-run"];
      const child = spawn(runtimeBin("deno"), ["run", ...flags, `${root}scripts/${script}`]);
      const code = await within(child.exited, `the build of ${what}`, 60_000);
      if (code !== 0) throw new Error(`Cannot build ${what}:\n${child.stderr()}`);
    })();
    builds.set(script, build);
  }
  return build;
}

/**
 * Builds the browser module that servers answer `/wskit/client.js` with (`deno task
 * build:browser`) once per test process: git ignores it, and this way it is never older
 * than `src/`.
 */
export function buildBrowserModule(): Promise<void> {
  return buildOnce("build_browser.ts", "the browser module");
}

/** Starts `examples/<name>.ts` on `runtime` and waits for the line with its URL. */
export async function startExample(
  runtime: "deno" | "bun",
  name: string,
  args: string[] = [],
): Promise<RunningExample> {
  if (name.startsWith("chat_app/")) await buildBrowserModule();
  const [cmd, argv] = runArgs(runtime, `examples/${name}.ts`, args);
  return await running(spawn(cmd, argv), `${name} on ${runtime}`, /ws:\/\/\S+/);
}

/**
 * Runs `file` (from the repository root) with `deno serve` as the README says, on loopback and
 * a free port; `parallel` runs two workers (even on a one-core machine). Resolves once every
 * worker has printed a line ending in "ready": a worker still loading would miss a signal.
 */
export async function startServe(file: string, parallel: boolean): Promise<RunningExample> {
  if (file.startsWith("examples/chat_app/")) await buildBrowserModule();
  const args = ["serve", ...(parallel ? ["--parallel"] : []), "--allow-net"];
  args.push("--host", "127.0.0.1", "--port", String(freePort()), `${root}${file}`);
  const child = spawn(runtimeBin("deno"), args, parallel ? { DENO_JOBS: "2" } : {});
  const what = `deno serve${parallel ? " --parallel" : ""} ${file}`;
  const example = await running(child, what, /http:\/\/127\.0\.0\.1:\d+\//);
  try {
    const workers = parallel ? 2 : 1;
    await waitFor(
      () => child.lines.filter((l) => /ready$/.test(l)).length >= workers,
      `${workers} worker(s) of ${what} to be ready`,
      15_000,
    );
    return example;
  } catch (error) {
    child.kill("SIGKILL");
    await child.exited;
    throw error;
  }
}

/** What an example prints when something still holds it after its shutdown (examples/_cli.ts). */
const HELD = /^Cannot end by itself/;

/** How a signalled process ended. */
export interface Ended {
  code: number;
  /** Milliseconds from the signal to the exit. */
  ms: number;
  /** Whether it ended by itself: nothing held it after its shutdown. */
  byItself: boolean;
}

/** Sends `signal` to `child` and waits (up to 10 s) for it to end. */
export async function signalled(child: Child, signal: "SIGINT" | "SIGTERM"): Promise<Ended> {
  const start = performance.now();
  child.kill(signal);
  const code = await within(child.exited, `the exit after ${signal}`, 10_000);
  return {
    code,
    ms: Math.round(performance.now() - start),
    byItself: !child.lines.some((l) => HELD.test(l)),
  };
}

/** Asserts that `child` ended by itself with exit code 0; shows its output otherwise. */
export function assertEndedByItself(child: Child, ended: Ended): void {
  const output = `its output:\n${child.lines.join("\n")}`;
  assertEquals(ended.code, 0, `the exit code; ${output}`);
  assert(ended.byItself, `something held the process after its shutdown; ${output}`);
}
