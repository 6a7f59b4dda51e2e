/**
 * The reconnect-storm client: `bun bench/storm_client.ts '<job JSON>'`. It opens `clients`
 * wskit `ReconnectingWebSocket`s (over the runtime's own `WebSocket`) to an echo subject,
 * prints `step ready` once all are open and waits for `next <killed at> <ready at>` (epoch
 * ms) from the orchestrator, which has meanwhile killed the subject and started it again on
 * the same port. It then times how long until every client is open again, checks that every
 * client echoes one message over its new connection, and prints `result <JSON>`.
 *
 * @module
 */

import { ReconnectingWebSocket } from "@wskit/wskit";
import type { JobResult } from "./load_window.ts";
import { Histogram } from "./stats.ts";

/** What the orchestrator asks of one storm. */
export interface StormJob {
  /** The subject's port on 127.0.0.1 (the same before and after the restart). */
  port: number;
  /** Reconnecting clients. */
  clients: number;
  /** Backoff: shortest wait before a reconnect attempt, ms. */
  minDelay: number;
  /** Backoff: longest wait before a reconnect attempt, ms. */
  maxDelay: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${what}`);
    await sleep(5);
  }
}

/** Lines from the orchestrator on stdin. */
async function* stdinLines(): AsyncGenerator<string> {
  const bun = (globalThis as unknown as { Bun: { stdin: { stream(): ReadableStream } } }).Bun;
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of bun.stdin.stream() as ReadableStream<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = text.indexOf("\n")) >= 0) {
      yield text.slice(0, nl).trim();
      text = text.slice(nl + 1);
    }
  }
}

async function storm(job: StormJob): Promise<JobResult> {
  const n = job.clients;
  const opens = new Int32Array(n);
  const closes = new Int32Array(n);
  const backAt = new Float64Array(n);
  const echoed = new Uint8Array(n);
  let gaveUp = 0;
  let attempts = 0;
  let unexpected = "";
  const clients: ReconnectingWebSocket[] = [];
  for (let i = 0; i < n; i++) {
    const ws = new ReconnectingWebSocket(`ws://127.0.0.1:${job.port}/`, undefined, {
      minDelay: job.minDelay,
      maxDelay: job.maxDelay,
    });
    ws.addEventListener("open", () => {
      if (++opens[i]! === 2) backAt[i] = Date.now();
    });
    // Only a close that ends an open connection counts: a reconnect attempt that finds the
    // port not yet listening again (the restart took longer than minDelay) also fires one.
    ws.addEventListener("close", () => {
      if (closes[i]! < opens[i]!) closes[i]!++;
    });
    ws.addEventListener("connecting", () => attempts++);
    ws.addEventListener("giveup", () => gaveUp++);
    ws.addEventListener("message", (e) => {
      if ((e as MessageEvent).data === `storm ${i}`) echoed[i] = 1;
      else unexpected ||= `client ${i} got ${String((e as MessageEvent).data).slice(0, 40)}`;
    });
    clients.push(ws);
  }
  const lines = stdinLines();
  try {
    await until(() => opens.every((o) => o >= 1), 60_000, `all ${n} clients open`);
    console.log("step ready");
    let line = "";
    while (!line.startsWith("next ")) {
      const r = await lines.next();
      if (r.done) throw new Error("The orchestrator closed stdin");
      line = r.value;
    }
    const [killedAt, readyAt] = line.slice(5).split(" ").map(Number) as [number, number];
    const startAttempts = attempts;
    await until(
      () => gaveUp > 0 || opens.every((o) => o >= 2),
      120_000,
      `all ${n} clients back`,
    );
    if (gaveUp > 0) throw new Error(`${gaveUp} clients gave up reconnecting`);
    if (opens.some((o) => o > 2) || closes.some((c) => c !== 1)) {
      throw new Error("A client closed or opened more than once around the restart");
    }
    clients.forEach((ws, i) => ws.send(`storm ${i}`));
    await until(() => echoed.every((e) => e === 1), 30_000, "an echo on every new connection");
    if (unexpected) throw new Error(unexpected);
    const hist = new Histogram();
    for (const t of backAt) hist.record(Math.max(0, t - readyAt));
    const last = Math.max(...backAt);
    return {
      valid: true,
      errors: [],
      count: n,
      seconds: (last - readyAt) / 1000,
      perSecond: n / Math.max(0.001, (last - readyAt) / 1000),
      serverCpuMs: 0,
      clientCpuMs: 0,
      extra: {
        allBackMs: last - readyAt,
        p50BackMs: hist.quantile(0.5) / 1000,
        p99BackMs: hist.quantile(0.99) / 1000,
        serverUpMs: readyAt - killedAt,
        sinceKillMs: last - killedAt,
        attempts: attempts - startAttempts,
      },
    };
  } finally {
    for (const ws of clients) ws.close();
  }
}

const proc = (globalThis as unknown as {
  process: { argv: string[]; exit(code: number): never };
}).process;
let result: JobResult;
try {
  result = await storm(JSON.parse(proc.argv[2] ?? "{}") as StormJob);
} catch (e) {
  result = {
    valid: false,
    errors: [(e as Error).message],
    count: 0,
    seconds: 0,
    perSecond: 0,
    serverCpuMs: 0,
    clientCpuMs: 0,
    extra: {},
  };
}
console.log(`result ${JSON.stringify(result)}`);
await sleep(100);
proc.exit(result.valid ? 0 : 1);
