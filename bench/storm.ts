/**
 * The reconnect storm, orchestrator side: start an echo subject, let `clients` reconnecting
 * clients connect (the load client's `storm` scenario, `load/storm.ts`), SIGKILL the subject,
 * start it again on the same port at once, and let the load client time how long until all
 * are back.
 *
 * Backoff is set to 100 ms - 2 s (the client's defaults are 1 s - 30 s, which would measure
 * the backoff policy rather than the server).
 *
 * @module
 */

import { pause } from "../tests/_support/wait.ts";
import type { Job, JobResult } from "./load/window.ts";
import { newRecord, type RunRecord } from "./report.ts";
import type { Subject } from "./scenarios.ts";
import { recordRun, startLoadClient, startServer } from "./subject.ts";

/** Backoff of the storm's clients, ms. */
export const STORM_BACKOFF = { minDelay: 100, maxDelay: 2000 };

/** Runs one reconnect storm against `subject`. */
export async function runStorm(
  subject: Subject,
  rep: number,
  clients: number,
  pin: boolean,
): Promise<RunRecord> {
  const record = newRecord("storm", subject.id, rep);
  return await recordRun(record, async (own) => {
    const first = await startServer(subject, "echo", 0, pin);
    const server = own(first.server);
    const job: Job = {
      scenario: "storm",
      port: first.port,
      serverPid: server.pid,
      conns: clients,
      backoff: STORM_BACKOFF,
      warmupMs: 0,
      measureMs: 0,
    };
    const client = own(startLoadClient(job, pin));
    const result = client.waitForLine(/^result /, 240_000);
    await Promise.race([client.waitForLine(/^step ready$/, 90_000), result]);
    const killedAt = Date.now();
    await server.stop();
    // The port is free at once (the listener had SO_REUSEADDR); retry briefly if not.
    let again;
    for (let attempt = 0; !again; attempt++) {
      try {
        again = await startServer(subject, "echo", first.port, pin);
      } catch (e) {
        if (attempt >= 20) throw e;
        await pause(100);
      }
    }
    own(again.server);
    const readyAt = Date.now();
    await client.write(`next ${killedAt} ${readyAt}\n`);
    const parsed = JSON.parse((await result).slice(7)) as JobResult;
    record.result = parsed;
    record.errors.push(...parsed.errors);
    record.valid = parsed.valid;
  });
}
