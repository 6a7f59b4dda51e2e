/**
 * Child processes for the orchestrator (Deno): spawn, optionally pinned to one CPU with
 * `taskset`, read stdout line by line, talk over stdin, and make sure that every process
 * started here is killed when the run ends, fails or is interrupted.
 *
 * @module
 */

/** Every child still running, so that an interrupted run kills them all. */
const running = new Set<Child>();
/** Set once the run is being torn down: no new child may start after that. */
let stopping = false;

/** Whether `/usr/bin/taskset` can pin processes here. */
export async function canPin(): Promise<boolean> {
  try {
    const out = await new Deno.Command("taskset", { args: ["-c", "0", "true"] }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** A running child process. */
export class Child {
  /** The process id (taskset execs its command, so this is the command's pid). */
  readonly pid: number;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  #process: Deno.ChildProcess;
  #lines: string[] = [];
  #waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  #stderr = "";
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #done = false;
  /** Called for every stdout line. */
  onLine: ((line: string) => void) | undefined;

  /**
   * Starts `cmd args`, pinned to `cpu` when given.
   *
   * @param env Extra environment variables.
   */
  constructor(cmd: string, args: string[], cpu?: number, env?: Record<string, string>) {
    if (stopping) throw new Error("Cannot start a process: the run is stopping");
    const argv = cpu === undefined ? [cmd, ...args] : ["taskset", "-c", String(cpu), cmd, ...args];
    this.#process = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      ...(env ? { env } : {}),
    }).spawn();
    this.pid = this.#process.pid;
    this.#stdin = this.#process.stdin.getWriter();
    running.add(this);
    const out = this.#read(this.#process.stdout, (line) => this.#line(line));
    const err = this.#read(this.#process.stderr, (line) => {
      if (this.#stderr.length < 20_000) this.#stderr += line + "\n";
    });
    this.exited = Promise.all([this.#process.status, out, err]).then(([status]) => {
      this.#done = true;
      running.delete(this);
      this.#stdin.close().catch(() => {});
      return status.code;
    });
  }

  async #read(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
    let rest = "";
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        rest += text;
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          onLine(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
        }
      }
    } catch { /* the process went away */ }
    if (rest) onLine(rest);
  }

  #line(line: string): void {
    this.#lines.push(line);
    this.onLine?.(line);
    for (const w of [...this.#waiters]) {
      if (w.re.test(line)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }

  /** Everything the child wrote on stderr (the first 20 000 characters). */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Resolves with the first stdout line matching `re` that arrives from now on.
   *
   * @throws {Error} When the child exits first or `timeoutMs` passes.
   */
  waitLine(re: RegExp, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`No line matching ${re} within ${timeoutMs} ms${this.#tail()}`));
      }, timeoutMs);
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.#waiters.push(waiter);
      this.exited.then((code) => {
        if (!this.#waiters.includes(waiter)) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`The process exited (${code}) before printing ${re}${this.#tail()}`));
      });
    });
  }

  #tail(): string {
    const err = this.#stderr.trim().split("\n").slice(-5).join("\n");
    return err ? `; stderr: ${err}` : "";
  }

  /** Writes one line to the child's stdin. */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** Kills the child (SIGKILL unless told otherwise) and waits for it to exit. */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<number> {
    if (!this.#done) {
      try {
        this.#process.kill(signal);
      } catch { /* already gone */ }
    }
    return await this.exited;
  }
}

/** Kills every child still running and refuses new ones (on failure or interrupt). */
export async function killAll(): Promise<void> {
  stopping = true;
  await Promise.all([...running].map((c) => c.kill()));
}
