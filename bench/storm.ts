/**
 * The reconnect storm, orchestrator side: start an echo subject, let `clients` reconnecting
 * clients connect, SIGKILL the subject, start it again on the same port at once, and let the
 * storm client time how long until all are back (see `storm_client.ts`).
 *
 * Backoff is set to 100 ms - 2 s (the client's defaults are 1 s - 30 s, which would measure
 * the backoff policy rather than the server).
 *
 * @module
 */

import { Child } from "./child.ts";
import type { JobResult } from "./load_window.ts";
import type { RunRecord } from "./report.ts";
import type { Subject } from "./scenarios.ts";
import type { StormJob } from "./storm_client.ts";
import { binaries, root, startServer } from "./subject.ts";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Backoff of the storm's clients, ms. */
export const STORM_BACKOFF = { minDelay: 100, maxDelay: 2000 };

/** Runs one reconnect storm against `subject`. */
export async function runStorm(
  subject: Subject,
  rep: number,
  clients: number,
  pin: boolean,
): Promise<RunRecord> {
  const started = performance.now();
  const record: RunRecord = {
    scenario: "storm",
    subject: subject.id,
    rep,
    valid: false,
    errors: [],
    wallMs: 0,
  };
  let server: Child | undefined;
  let client: Child | undefined;
  try {
    const first = await startServer(subject, "echo", 0, pin);
    server = first.server;
    const job: StormJob = { port: first.port, clients, ...STORM_BACKOFF };
    client = new Child(
      binaries().bun,
      [`${root}bench/storm_client.ts`, JSON.stringify(job)],
      pin ? 1 : undefined,
    );
    const result = client.waitLine(/^result /, 240_000);
    await Promise.race([client.waitLine(/^step ready$/, 90_000), result]);
    const killedAt = Date.now();
    await server.kill("SIGKILL");
    server = undefined;
    // The port is free at once (the listener had SO_REUSEADDR); retry briefly if not.
    let again;
    for (let attempt = 0; !again; attempt++) {
      try {
        again = await startServer(subject, "echo", first.port, pin);
      } catch (e) {
        if (attempt >= 20) throw e;
        await sleep(100);
      }
    }
    server = again.server;
    const readyAt = Date.now();
    await client.send(`next ${killedAt} ${readyAt}`);
    const parsed = JSON.parse((await result).slice(7)) as JobResult;
    record.result = parsed;
    record.errors.push(...parsed.errors);
    record.valid = parsed.valid;
  } catch (e) {
    record.errors.push((e as Error).message);
  } finally {
    await client?.kill();
    await server?.kill();
    record.wallMs = performance.now() - started;
  }
  return record;
}
