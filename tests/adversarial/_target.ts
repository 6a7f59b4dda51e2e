/** The session target of tests/fixtures/session_target.ts, started on the suite's runtime. */

import { type Child, runArgs, spawn, waitForStart } from "../_support/process.ts";
import { runtime } from "../_support/harness.ts";
import { within } from "../_support/wait.ts";

/** A running target. */
export interface Target {
  child: Child;
  url: string;
  /** Memory after garbage collection, in bytes. */
  memory(): Promise<{ rss: number; heap: number; external: number }>;
  stats(): Promise<{
    sessions: { sessions: number } & Record<string, number>;
    server: { peers: number; topics: number };
    errors: number;
    received: number;
  }>;
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

/** Starts the target with a replay window of `windowMs`. */
export async function startTarget(windowMs: number): Promise<Target> {
  const child = spawn(
    ...runArgs(runtime, "tests/fixtures/session_target.ts", [String(windowMs)], {
      deno: ["-A", "--v8-flags=--expose-gc"],
    }),
  );
  let exited = false;
  child.exited.then(() => exited = true);
  const line = await waitForStart(child, /^listening ws:\/\//);
  const url = line.slice("listening ".length);
  const http = url.replace(/^ws/, "http");
  return {
    child,
    url,
    memory: async () => await (await fetch(`${http}mem`)).json(),
    stats: async () => await (await fetch(`${http}stats`)).json(),
    alive: () => !exited,
    async stop() {
      child.kill("SIGKILL");
      await within(child.exited, "the target to exit");
    },
  };
}
