/**
 * The reconnect storm of the load client: `conns` wskit `ReconnectingWebSocket`s (over the
 * runtime's own `WebSocket`) on an echo subject. Once all are open it pauses (`step ready`)
 * until the orchestrator, having SIGKILLed the subject and started it again on the same
 * port, writes `next <killed at> <ready at>` (epoch ms). It then times how long until every
 * client is open again, and checks that every client echoes one message over its new
 * connection.
 *
 * @module
 */

import { ReconnectingWebSocket } from "@wskit/wskit";
import { Histogram } from "../stats.ts";
import { type Job, type JobResult, step } from "./window.ts";
import { waitFor } from "../../tests/_support/wait.ts";

/** Runs one storm; the clients' backoff is `job.backoff`. */
export async function storm(job: Job): Promise<JobResult> {
  const n = job.conns;
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
      ...job.backoff,
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
  try {
    await waitFor(() => opens.every((o) => o >= 1), `all ${n} clients open`, 60_000);
    const [killedAt, readyAt] = (await step("ready")).split(" ").map(Number) as [number, number];
    const startAttempts = attempts;
    await waitFor(
      () => gaveUp > 0 || opens.every((o) => o >= 2),
      `all ${n} clients back`,
      120_000,
    );
    if (gaveUp > 0) throw new Error(`${gaveUp} clients gave up reconnecting`);
    if (opens.some((o) => o > 2) || closes.some((c) => c !== 1)) {
      throw new Error("A client closed or opened more than once around the restart");
    }
    clients.forEach((ws, i) => ws.send(`storm ${i}`));
    await waitFor(() => echoed.every((e) => e === 1), "an echo on every new connection", 30_000);
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
