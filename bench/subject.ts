/**
 * Starting a subject: the command line for each runtime (Deno with `--allow-net` and
 * `--expose-gc`, Bun as is), pinned to CPU 0 when asked, and the wait for `ready <port>`.
 *
 * @module
 */

import { Child } from "./child.ts";
import type { Subject } from "./scenarios.ts";

/** The repository root, ending in "/". */
export const root: string = new URL("..", import.meta.url).pathname;

/** Where each runtime's binary is: this Deno, and Bun from `npm install` or the PATH. */
export function binaries(): { deno: string; bun: string } {
  const local = `${root}node_modules/.bin/bun`;
  let bun = "bun";
  try {
    Deno.statSync(local);
    bun = local;
  } catch { /* not installed locally: rely on the PATH */ }
  return { deno: Deno.execPath(), bun };
}

/** The command that starts `subject` in `mode` on `port`. */
export function serverCommand(subject: Subject, mode: string, port: number): [string, string[]] {
  const { deno, bun } = binaries();
  const file = `${root}bench/servers/${subject.file}`;
  const tail = ["--mode", mode, "--port", String(port)];
  return subject.runtime === "deno"
    ? [deno, ["run", "--allow-net", "--v8-flags=--expose-gc", file, ...tail]]
    : [bun, [file, ...tail]];
}

/** Starts a subject and waits for its `ready <port>` line. */
export async function startServer(
  subject: Subject,
  mode: string,
  port: number,
  pin: boolean,
): Promise<{ server: Child; port: number }> {
  const [cmd, args] = serverCommand(subject, mode, port);
  const server = new Child(cmd, args, pin ? 0 : undefined);
  try {
    const line = await server.waitLine(/^ready \d+$/, 20_000);
    return { server, port: Number(line.slice(6)) };
  } catch (e) {
    await server.kill();
    throw new Error(`${subject.id} failed to start: ${(e as Error).message}`);
  }
}
