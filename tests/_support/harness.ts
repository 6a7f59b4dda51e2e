/**
 * One test registration API for both runtimes: `Deno.test` under Deno, `bun:test` under Bun.
 * Test files import `test` from here and nothing runtime-specific, so the same files run
 * under `deno test` and `bun test`.
 *
 * A test that needs something this machine may lack (Chromium, redis-server) registers with
 * `requires` (or `skip`, with a reason found at load time); where it is missing the test is
 * skipped with the reason, unless `WSKIT_NO_SKIP=1` is set (CI sets it), in which case the
 * skip becomes a failure.
 */

/** A runtime the suite runs on. */
export type Runtime = "deno" | "bun";

/** The runtime executing the suite. */
export const runtime: Runtime = "Deno" in globalThis ? "deno" : "bun";

/** The other runtime: tests that cross runtimes run it as a child process. */
export const otherRuntime: Runtime = runtime === "deno" ? "bun" : "deno";

/** Options accepted by {@linkcode test}. */
export interface TestOptions {
  /** Fail the test after this many milliseconds. Default 20 000. */
  timeout?: number;
  /** Names of executables that must be on PATH; skip (or fail under CI) without them. */
  requires?: string[];
  /** Keep Deno's op and resource sanitizers on. Default true. */
  sanitize?: boolean;
  /**
   * Why the test cannot run here, found at load time (an npm package that cannot be
   * installed): skip with this reason (or fail under CI), as for `requires`.
   */
  skip?: string | undefined;
  /**
   * The runtime the test is about (a Deno permission, a shebang that names Deno): on the
   * other one it does not apply and is not registered at all.
   */
  only?: Runtime;
}

type TestFn = () => void | Promise<void>;

interface DenoTestApi {
  test(def: {
    name: string;
    fn: () => Promise<void>;
    ignore?: boolean;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
  }): void;
  env: { get(k: string): string | undefined };
  statSync(path: string): { isFile: boolean };
}

interface BunTestApi {
  test: ((name: string, fn: () => Promise<void>, timeout?: number) => void) & {
    skip(name: string, fn: () => void): void;
  };
}

const deno = (globalThis as unknown as { Deno?: DenoTestApi }).Deno;
const bunTestSpecifier = "bun:test";
const bunTest: BunTestApi | undefined = deno
  ? undefined
  : (await import(bunTestSpecifier)) as BunTestApi;

/** Reads an environment variable on either runtime. */
export function env(name: string): string | undefined {
  if (deno) return deno.env.get(name);
  return (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
    .process.env[name];
}

/** Finds an executable on PATH (or at a path, when `command` has a "/"), or returns `null`. */
export function which(command: string): string | null {
  const bun = (globalThis as unknown as { Bun?: { which(c: string): string | null } }).Bun;
  if (bun) return bun.which(command);
  const dirs = command.includes("/") ? [""] : (env("PATH") ?? "").split(":").filter(Boolean);
  for (const dir of dirs) {
    const path = dir ? `${dir}/${command}` : command;
    try {
      if (deno!.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

async function withTimeout(name: string, fn: TestFn, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Test "${name}" timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers a test on the current runtime.
 *
 * @param name What the test shows, as a sentence.
 * @param fn The test body.
 * @param options Timeout, required executables and sanitizer switch.
 */
export function test(name: string, fn: TestFn, options: TestOptions = {}): void {
  const timeout = options.timeout ?? 20_000;
  const missing = (options.requires ?? []).filter((c) => which(c) === null);
  const fullName = `[${runtime}] ${name}`;
  // Not a skip: on another runtime the test has nothing to try, and the suite of the runtime it
  // is about runs it (a skip would read as something missing, and CI allows none).
  if (options.only && options.only !== runtime) return;
  const reason = missing.length > 0 ? `needs ${missing.join(", ")} on PATH` : options.skip;
  if (reason !== undefined) {
    if (env("WSKIT_NO_SKIP") === "1") {
      const fail = () => {
        throw new Error(`Cannot run: ${reason} (WSKIT_NO_SKIP=1 turns this skip into a failure)`);
      };
      if (deno) deno.test({ name: fullName, fn: () => Promise.resolve().then(fail) });
      else bunTest!.test(fullName, () => Promise.resolve().then(fail));
      return;
    }
    console.warn(`skipping "${name}": ${reason}`);
    if (deno) {
      deno.test({ name: `${fullName} (skipped: ${reason})`, fn: async () => {}, ignore: true });
    } else bunTest!.test.skip(`${fullName} (skipped: ${reason})`, () => {});
    return;
  }
  const run = () => withTimeout(name, fn, timeout);
  if (deno) {
    const sanitize = options.sanitize ?? true;
    deno.test({ name: fullName, fn: run, sanitizeOps: sanitize, sanitizeResources: sanitize });
  } else {
    // Bun's own timeout is set a little above ours so that ours, with its message, fires first.
    bunTest!.test(fullName, run, timeout + 1_000);
  }
}
