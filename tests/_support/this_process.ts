/**
 * This process, on either runtime: its arguments, its stdin as lines, its memory, a full
 * garbage collection, signals and exit. For the programs that tests and benchmarks run as
 * children (fixtures, subjects, the load client), and for reading a child's output as lines.
 */

interface DenoSelf {
  args: string[];
  exit(code: number): never;
  stdin: { readable: ReadableStream<Uint8Array> };
  memoryUsage(): Memory;
  addSignalListener(signal: "SIGTERM" | "SIGINT", fn: () => void): void;
}
interface NodeSelf {
  argv: string[];
  stdin: AsyncIterable<Uint8Array>;
  exit(code: number): never;
  memoryUsage(): Memory;
  on(signal: "SIGTERM" | "SIGINT", fn: () => void): void;
}
interface BunSelf {
  stdin: { stream(): ReadableStream<Uint8Array> };
  gc(force: boolean): void;
}

/** Memory of this process, in bytes. */
export interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

const deno = (globalThis as unknown as { Deno?: DenoSelf }).Deno;
const node = (globalThis as unknown as { process?: NodeSelf }).process;
const bun = (globalThis as unknown as { Bun?: BunSelf }).Bun;

/** Yields the lines of `stream` without their "\n"; a last line without one is yielded too. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let rest = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        yield rest.slice(0, nl);
        rest = rest.slice(nl + 1);
      }
    }
  } finally {
    reader.releaseLock();
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

/** The lines of this process's stdin, trimmed (the commands of the parent). */
export async function* stdinLines(): AsyncGenerator<string> {
  // Node (the benchmark's Node peers) has neither: its stdin is an async iterable.
  const stream = deno
    ? deno.stdin.readable
    : bun
    ? bun.stdin.stream()
    : ReadableStream.from(node!.stdin);
  for await (const line of readLines(stream)) yield line.trim();
}

/** The command-line arguments after the script. */
export function args(): string[] {
  return deno ? deno.args : node!.argv.slice(2);
}

/** Ends this process with `code`. */
export function exit(code: number): never {
  return (deno ?? node!).exit(code);
}

/** Calls `fn` when this process receives `signal`. */
export function onSignal(signal: "SIGTERM" | "SIGINT", fn: () => void): void {
  if (deno) deno.addSignalListener(signal, fn);
  else node!.on(signal, fn);
}

/** This process's memory, in bytes. */
export function memoryUsage(): Memory {
  return (deno ?? node!).memoryUsage();
}

/**
 * A full garbage collection.
 *
 * @throws {Error} On Deno without `--v8-flags=--expose-gc`.
 */
export function collectGarbage(): void {
  if (bun) return bun.gc(true);
  const gc = (globalThis as unknown as { gc?: () => void }).gc;
  if (!gc) throw new Error("Cannot collect garbage: run Deno with --v8-flags=--expose-gc");
  // Twice: what the first pass finalizes, the second frees.
  gc();
  gc();
}
