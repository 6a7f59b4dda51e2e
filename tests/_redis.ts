/**
 * A private `redis-server` for a test: on a free loopback port, without persistence, killed
 * at the end. Tests that use it register with `requires: ["redis-server"]`.
 */

import { type Child, spawn } from "./_process.ts";
import { freePort } from "./_tcp.ts";
import { within } from "./_wait.ts";

/** A running Redis server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

async function launch(port: number): Promise<Child> {
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "no",
  ]);
  await child.waitForLine(/Ready to accept connections/, 10_000);
  return child;
}

/**
 * Starts a Redis server on a free port. The port is found by binding port 0 and letting go
 * of it, so another process may take it first: then it tries another, up to three times.
 */
export async function startRedis(): Promise<RedisServer> {
  let port = 0;
  let child: Child | undefined;
  for (let attempt = 1; !child; attempt++) {
    port = freePort();
    try {
      child = await launch(port);
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
      child = await launch(port);
    },
    stop: kill,
  };
}
