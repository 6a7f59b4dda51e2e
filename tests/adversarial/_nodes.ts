/**
 * Instances of tests/fixtures/session_node.ts (a session app on a shared Redis), each on
 * Deno or Bun, and session clients on them: the seams between instances, tested for real.
 */

import { SessionClient } from "@wskit/wskit/session-client";
import type { StressProtocol } from "../fixtures/session_stress.ts";
import { type Child, runArgs, spawn, waitForStart } from "../_support/process.ts";
import { waitFor, within } from "../_support/wait.ts";

/** A running instance. */
export interface Node {
  runtime: "deno" | "bun";
  child: Child;
  url: string;
  /** The event ids its handler ran for, in order, and its session stats. */
  handled(): Promise<{ handled: string[]; stats: Record<string, number> }>;
  stop(): Promise<void>;
}

/**
 * Starts one instance on `runtime` against Redis at `redisUrl`; its store waits `storeTimeout`
 * ms for Redis before a write fails. `fixture` runs another application (with `more`
 * arguments after those two), such as `tests/fixtures/presence_node.ts`.
 */
export async function startNode(
  runtime: "deno" | "bun",
  redisUrl: string,
  storeTimeout = 10_000,
  fixture = "tests/fixtures/session_node.ts",
  more: string[] = [],
): Promise<Node> {
  const args = [redisUrl, String(storeTimeout), ...more];
  const child = spawn(...runArgs(runtime, fixture, args, { deno: ["-A"] }));
  const line = await waitForStart(child, /^listening ws:\/\//);
  const url = line.slice("listening ".length);
  return {
    runtime,
    child,
    url,
    async handled() {
      const response = await fetch(url.replace(/^ws/, "http"));
      return await response.json();
    },
    async stop() {
      child.kill("SIGTERM");
      const exited = await within(child.exited.then(() => true), "an instance to exit", 10_000)
        .catch(() => false);
      if (!exited) {
        child.kill("SIGKILL");
        await child.exited;
      }
    },
  };
}

/** A session client in room "r" that records every `said` id in the order it arrived. */
export interface Member {
  client: SessionClient<StressProtocol>;
  said: string[];
  resyncs: string[];
}

/** Connects a member to `url` and joins room "r". */
export async function member(url: string): Promise<Member> {
  const client = new SessionClient<StressProtocol>(url, { minDelay: 50, maxDelay: 500 });
  const said: string[] = [];
  const resyncs: string[] = [];
  client.on("said", ({ id }) => void said.push(id));
  client.addEventListener("resync", (e) => void resyncs.push(e.reason));
  await client.join("r", { timeout: 15_000 });
  return { client, said, resyncs };
}

/** Waits until every member has `n` ids, or fails saying who has how many. */
export async function everyoneHas(members: Member[], n: number, timeout: number): Promise<void> {
  try {
    await waitFor(() => members.every((m) => m.said.length >= n), `${n} messages`, timeout);
  } catch {
    const have = members.map((m) => `${m.said.length} (resyncs: ${m.resyncs.join(" ") || "none"})`);
    throw new Error(`Cannot see ${n} messages at every member within ${timeout} ms: ${have}`);
  }
}
