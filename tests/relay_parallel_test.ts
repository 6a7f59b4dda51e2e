// Every core of one machine: the kernel spreads connections over workers that share a port
// (`deno serve --parallel`, or `Worker`s with reusePort), and a BroadcastChannel relay makes
// one room of theirs, whichever worker holds each client.

import { assert, assertEquals } from "@std/assert";
import { runtime, test } from "./_support/harness.ts";
import { type Child, root, runtimeBin, spawn, startServe } from "./_support/process.ts";
import { freePort } from "./_support/tcp.ts";
import { waitFor, within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

/** Runs `deno serve --parallel` on two workers (even on a one-core machine). */
async function denoServe(file: string, port: number): Promise<Child> {
  const path = new URL(file, import.meta.url).pathname;
  const args = [
    "serve",
    "--parallel",
    "--allow-net",
    "--host",
    "127.0.0.1",
    "--port",
    `${port}`,
    path,
  ];
  const child = spawn(runtimeBin("deno"), args, { DENO_JOBS: "2" });
  await child.waitForLine(/Listening on/, 15_000);
  return child;
}

async function stop(child: Child, clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
  // The fixtures keep their BroadcastChannel open, so SIGTERM would not end them; they have
  // nothing to flush. (examples/chat_app/serve.ts does end on SIGTERM: tests/shutdown_test.ts.)
  child.kill("SIGKILL");
  await within(child.exited, "the servers' process to exit", 10_000);
}

/**
 * Connects clients until they sit on at least two workers (each is told its worker first),
 * keeping a dozen. The second worker may start listening a moment after the first.
 */
async function spread(port: number, clients: TestClient[]): Promise<Set<string>> {
  const workers = new Set<string>();
  const deadline = Date.now() + 15_000;
  while ((workers.size < 2 || clients.length < 6) && Date.now() < deadline) {
    const c = await TestClient.connect(`ws://127.0.0.1:${port}/`);
    workers.add(await c.next() as string);
    if (clients.length < 12) clients.push(c);
    else await c.close(); // the rest only probe for the second worker
    if (workers.size < 2 && clients.length >= 12) await new Promise((r) => setTimeout(r, 50));
  }
  assert(workers.size >= 2, `clients landed on ${workers.size} worker(s) only`);
  return workers;
}

/** One client says something; every client, on every worker, gets it. */
async function everyoneHears(clients: TestClient[], text: string): Promise<void> {
  clients.at(-1)!.send(text);
  for (const c of clients) {
    await waitFor(() => c.messages.length === 2, "the message at every client", 5_000);
    assertEquals(c.messages[1], text);
  }
}

test(
  "deno serve --parallel: clients on different workers share a room through BroadcastChannel",
  async () => {
    const port = freePort();
    const child = await denoServe("./fixtures/parallel_room.ts", port);
    const clients: TestClient[] = [];
    try {
      const workers = await spread(port, clients);
      await everyoneHears(clients, "hello, every worker");
      console.log(`parallel: ${clients.length} clients on ${workers.size} workers`);
    } finally {
      await stop(child, clients);
    }
  },
  { timeout: 40_000 },
);

test(
  `Workers of one ${runtime} process on one port share a room through BroadcastChannel`,
  async () => {
    const port = freePort();
    const file = new URL("./fixtures/workers_room.ts", import.meta.url).pathname;
    // Deno's reusePort is unstable (deno serve --parallel is its stable way to use every core).
    const child = runtime === "deno"
      ? spawn(runtimeBin("deno"), [
        "run",
        "--unstable-net",
        "--allow-net",
        "--allow-read",
        file,
        `${port}`,
      ])
      : spawn(runtimeBin("bun"), ["run", file, `${port}`]);
    const clients: TestClient[] = [];
    try {
      await child.waitForLine(/^ready$/, 15_000);
      await spread(port, clients);
      await everyoneHears(clients, "across workers");
    } finally {
      await stop(child, clients);
    }
  },
  { timeout: 40_000 },
);

test(
  "examples/chat_app/serve.ts under deno serve --parallel: one chat across the workers",
  async () => {
    const chat = await startServe("examples/chat_app/serve.ts", true);
    const clients: TestClient[] = [];
    try {
      const page = await fetch(chat.url.replace("ws", "http"));
      assertEquals(page.status, 200);
      await page.body?.cancel();
      for (let i = 0; i < 8; i++) {
        const c = await TestClient.connect(chat.url);
        await c.json(); // welcome
        clients.push(c);
      }
      clients[0]!.send("hello, every worker");
      for (const c of clients) {
        await c.until((m) => JSON.parse(m as string).text === "hello, every worker", 5_000);
      }
    } finally {
      await stop(chat.child, clients);
    }
  },
  { timeout: 40_000 },
);

test(
  `BroadcastChannelRelay.close() lets a ${runtime} process end, and a start() after it opens nothing`,
  async () => {
    // Two relays of one process exchange a publish, close, and one is started again: an
    // open channel would keep the process alive.
    const script = `
      import { BroadcastChannelRelay } from "${root}src/relay/broadcast_channel.ts";
      const sender = new BroadcastChannelRelay("exit-test");
      const receiver = new BroadcastChannelRelay("exit-test");
      await new Promise((resolve) => {
        receiver.start((topic, data) => resolve(console.log("got", topic, data)));
        sender.start(() => {});
        sender.publish("room", "hello");
      });
      await Promise.all([sender.close(), receiver.close()]);
      sender.start(() => {});
      console.log("closed", JSON.stringify(sender.stats()));
    `;
    const child = runtime === "deno"
      ? spawn(runtimeBin("deno"), ["eval", "--ext=ts", script])
      : spawn(runtimeBin("bun"), ["-e", script]);
    try {
      const code = await within(child.exited, "the process to end by itself", 10_000);
      assertEquals([code, child.lines], [0, [
        "got room hello",
        `closed {"connected":false,"published":1,"received":0,"buffered":0,"dropped":0,"reconnects":0}`,
      ]]);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  },
);
