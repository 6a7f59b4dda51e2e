// `deno serve --parallel` with the BroadcastChannel relay: the kernel spreads connections
// over the workers, and a room still reaches every client, whichever worker holds it.

import { assert, assertEquals } from "@std/assert";
import { runtime, test } from "./_harness.ts";
import { runtimeBin, spawn } from "./_process.ts";
import { listenTcp } from "./_tcp.ts";
import { waitFor, within } from "./_wait.ts";
import { TestClient } from "./_ws.ts";

test(
  "deno serve --parallel: clients on different workers share a room through BroadcastChannel",
  async () => {
    const probe = listenTcp(0, (c) => c.close());
    const port = probe.port;
    probe.close();
    const file = new URL("./fixtures/parallel_room.ts", import.meta.url).pathname;
    const child = spawn(runtimeBin("deno"), [
      "serve",
      "--parallel",
      "--allow-net",
      "--port",
      String(port),
      file,
    ], { DENO_JOBS: "2" }); // two workers even on a one-core machine
    const clients: TestClient[] = [];
    try {
      await child.waitForLine(/Listening on/, 15_000);
      // Connect until clients sit on at least two workers (each is told its worker first).
      // The second worker may start listening a moment after the first says it listens.
      const workers = new Set<string>();
      const deadline = Date.now() + 15_000;
      while ((workers.size < 2 || clients.length < 6) && Date.now() < deadline) {
        const c = await TestClient.connect(`ws://127.0.0.1:${port}/`);
        workers.add(await c.next() as string);
        if (clients.length < 12) clients.push(c);
        else await c.close(); // keep a dozen; the rest only probe for the second worker
        if (workers.size < 2 && clients.length >= 12) await new Promise((r) => setTimeout(r, 50));
      }
      assert(workers.size >= 2, `clients landed on ${workers.size} worker(s) only`);
      clients[0]!.send("hello, every worker");
      for (const c of clients) {
        await waitFor(() => c.messages.length === 2, "the message at every client", 5_000);
        assertEquals(c.messages[1], "hello, every worker");
      }
      console.log(`parallel: ${clients.length} clients on ${workers.size} workers`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      // deno serve --parallel does not stop on SIGTERM; the fixture has nothing to flush.
      child.kill("SIGKILL");
      await within(child.exited, "deno serve to exit", 10_000);
    }
  },
  { timeout: 40_000 },
);

test(
  `Workers of one ${runtime} process on one port share a room through BroadcastChannel`,
  async () => {
    const probe = listenTcp(0, (c) => c.close());
    const port = probe.port;
    probe.close();
    const file = new URL("./fixtures/workers_room.ts", import.meta.url).pathname;
    const [cmd, args] = runtime === "deno"
      // Deno's reusePort is unstable (deno serve --parallel is its stable way to use every core).
      ? [runtimeBin("deno"), [
        "run",
        "--unstable-net",
        "--allow-net",
        "--allow-read",
        file,
        String(port),
      ]]
      : [runtimeBin("bun"), ["run", file, String(port)]];
    const child = spawn(cmd, args);
    const clients: TestClient[] = [];
    try {
      await child.waitForLine(/^ready$/, 15_000);
      const workers = new Set<string>();
      const deadline = Date.now() + 15_000;
      while ((workers.size < 2 || clients.length < 6) && Date.now() < deadline) {
        const c = await TestClient.connect(`ws://127.0.0.1:${port}/`);
        workers.add(await c.next() as string);
        if (clients.length < 12) clients.push(c);
        else await c.close();
      }
      assert(workers.size >= 2, `clients landed on ${workers.size} worker(s) only`);
      clients.at(-1)!.send("across workers");
      for (const c of clients) {
        await waitFor(() => c.messages.length === 2, "the message at every client", 5_000);
        assertEquals(c.messages[1], "across workers");
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      child.kill("SIGKILL");
      await within(child.exited, "the workers' process to exit", 10_000);
    }
  },
  { timeout: 40_000 },
);

test(
  "examples/chat_serve.ts under deno serve --parallel: one chat across the workers",
  async () => {
    const probe = listenTcp(0, (c) => c.close());
    const port = probe.port;
    probe.close();
    const file = new URL("../examples/chat_serve.ts", import.meta.url).pathname;
    const child = spawn(runtimeBin("deno"), [
      "serve",
      "--parallel",
      "--allow-net",
      "--port",
      String(port),
      file,
    ], { DENO_JOBS: "2" });
    const clients: TestClient[] = [];
    try {
      await child.waitForLine(/Listening on/, 15_000);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assertEquals(page.status, 200);
      await page.body?.cancel();
      for (let i = 0; i < 8; i++) {
        const c = await TestClient.connect(`ws://127.0.0.1:${port}/`);
        await c.json(); // welcome
        clients.push(c);
      }
      clients[0]!.send("hello, every worker");
      for (const c of clients) {
        await c.until((m) => JSON.parse(m as string).text === "hello, every worker", 5_000);
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      child.kill("SIGKILL");
      await within(child.exited, "deno serve to exit", 10_000);
    }
  },
  { timeout: 40_000 },
);
