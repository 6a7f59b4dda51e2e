/**
 * A private `redis-server` for a test (or a benchmark): on a free loopback port, without
 * persistence, killed at the end. Tests that use it register with `requires: ["redis-server"]`.
 */

import { type Child, spawn, waitForStart } from "./process.ts";
import { freePort } from "./tcp.ts";
import { within } from "./wait.ts";

/** A running Redis server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (with its data, if it persists). */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

async function launch(port: number, dir: string | undefined): Promise<Child> {
  // With a directory: every write in an append-only file, synced before Redis answers, so
  // that a SIGKILL loses nothing; without: nothing on disk, a restart starts empty.
  const persistence = dir
    ? ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always"]
    : ["--appendonly", "no"];
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    ...persistence,
    "--protected-mode",
    "no",
  ]);
  await waitForStart(child, /Ready to accept connections/, 10_000);
  return child;
}

/**
 * Starts a Redis server on a free port. The port is found by binding port 0 and letting go
 * of it, so another process may take it first: then it tries another, up to three times.
 */
export async function startRedis(options: { persist?: boolean } = {}): Promise<RedisServer> {
  const dir = options.persist ? await tempDir() : undefined;
  let port = 0;
  let child: Child | undefined;
  for (let attempt = 1; !child; attempt++) {
    port = freePort();
    try {
      child = await launch(port, dir);
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  const kill = async () => {
    if (!child) return;
    child.kill("SIGKILL");
    await within(child.exited, "redis-server to exit");
    child = undefined;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      child = await launch(port, dir);
    },
    async stop() {
      await kill();
      if (dir) await removeDir(dir);
    },
  };
}

/** A fresh temporary directory (made by `mktemp`, so that both runtimes do it one way). */
async function tempDir(): Promise<string> {
  const child = spawn("mktemp", ["-d", "-t", "wskit-redis-XXXXXX"]);
  const line = await child.waitForLine(/\//, 5_000);
  await within(child.exited, "mktemp to exit");
  return line.trim();
}

async function removeDir(path: string): Promise<void> {
  await within(spawn("rm", ["-rf", path]).exited, "rm to exit");
}
