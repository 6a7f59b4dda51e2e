/**
 * Runs `bench/layers.ts` on each runtime (with a private `redis-server` when there is one),
 * checks what it reports, and renders the table of what the session layer, the Redis relay
 * and a churn soak cost. Called by `bench/run.ts` after the subject scenarios.
 *
 * @module
 */

import { which } from "../tests/_support/harness.ts";
import { runArgs, spawn } from "../tests/_support/process.ts";
import { type RedisServer, startRedis } from "../tests/_support/redis.ts";
import { waitFor } from "../tests/_support/wait.ts";

/** One measurement of `layers.ts`. */
export interface LayerResult {
  runtime: "deno" | "bun";
  name: string;
  valid: boolean;
  errors: string[];
  figures: Record<string, number | boolean | string>;
}

/** Starts a throwaway redis-server, or returns undefined where there is none. */
async function throwawayRedis(): Promise<RedisServer | undefined> {
  if (!which("redis-server")) return undefined;
  try {
    return await startRedis();
  } catch {
    return undefined;
  }
}

/** Checks one measurement: complete fan-outs, nothing left after the soak. */
function check(name: string, f: Record<string, number | boolean | string>): string[] {
  if (name.startsWith("relay") && f.complete !== true) return [`${name}: deliveries incomplete`];
  if (name === "soak" && (f.leftPeers !== 0 || f.leftSubscribers !== 0 || f.leftSessions !== 0)) {
    return [
      `soak: left ${f.leftPeers} peers, ${f.leftSubscribers} topics, ${f.leftSessions} sessions`,
    ];
  }
  return [];
}

/** Runs the layer measurements on both runtimes. */
export async function runLayers(quick: boolean): Promise<LayerResult[]> {
  const redis = await throwawayRedis();
  const tail = [...(quick ? ["--quick"] : []), ...(redis ? ["--redis", redis.url] : [])];
  const out: LayerResult[] = [];
  try {
    for (const runtime of ["deno", "bun"] as const) {
      const child = spawn(...runArgs(runtime, "bench/layers.ts", tail, { deno: ["-A"] }));
      let exited = false;
      child.exited.then(() => exited = true);
      const results = () => child.lines.filter((line) => line.startsWith("result "));
      const names = [
        "session_plain",
        "session_events",
        "relay_single",
        ...(redis ? ["relay_redis"] : []),
        "soak",
      ];
      for (const [i, expected] of names.entries()) {
        try {
          await waitFor(() => results().length > i || exited, expected, quick ? 60_000 : 300_000);
          const line = results()[i];
          if (line === undefined) throw new Error(`layers.ts exited before measuring ${expected}`);
          const f = JSON.parse(line.slice(7)) as Record<string, number | boolean | string>;
          const name = String(f.name);
          const errors = check(name, f);
          out.push({ runtime, name, valid: errors.length === 0, errors, figures: f });
        } catch (e) {
          out.push({
            runtime,
            name: expected,
            valid: false,
            errors: [`${(e as Error).message}; stderr: ${child.stderr().slice(0, 300)}`],
            figures: {},
          });
          break;
        }
      }
      await child.stop();
    }
  } finally {
    await redis?.stop();
  }
  if (!redis) console.log("  layers: no redis-server, the relay measurement was skipped");
  return out;
}

const k = (n: unknown) => typeof n === "number" ? `${(n / 1000).toFixed(0)} k` : "–";

/** The Markdown table of the layer measurements. */
export function layersMarkdown(results: LayerResult[]): string {
  const get = (runtime: string, name: string) =>
    results.find((r) => r.runtime === runtime && r.name === name)?.figures ?? {};
  const lines = [
    "What the layers cost, each measured in one process of each runtime with its own " +
    "`WebSocket` as the client (`bench/layers.ts`):",
    "",
    "| layer | figure | Deno | Bun |",
    "|---|---|--:|--:|",
  ];
  const row = (label: string, figure: string, f: (rt: string) => string) =>
    lines.push(`| ${label} | ${figure} | ${f("deno")} | ${f("bun")} |`);
  const ratio = (a: unknown, b: unknown) =>
    typeof a === "number" && typeof b === "number" ? `${(a / b).toFixed(2)}x` : "–";
  row("plain echo (32-byte text)", "messages/s", (rt) => k(get(rt, "session_plain").perSecond));
  row("session echo (events)", "messages/s", (rt) => k(get(rt, "session_events").perSecond));
  row(
    "",
    "session / plain",
    (rt) => ratio(get(rt, "session_events").perSecond, get(rt, "session_plain").perSecond),
  );
  row(
    "",
    "bytes on the wire per message (both ways, acks included; plain: 64)",
    (rt) => Number(get(rt, "session_events").bytesPerMessage ?? NaN).toFixed(0),
  );
  row(
    "1 publisher → 100 subscribers, one server",
    "deliveries/s",
    (rt) => k(get(rt, "relay_single").deliveriesPerSecond),
  );
  row(
    "… split over two servers by the Redis relay",
    "deliveries/s",
    (rt) => k(get(rt, "relay_redis").deliveriesPerSecond),
  );
  row(
    "",
    "Redis relay / one server",
    (rt) =>
      ratio(
        get(rt, "relay_redis").deliveriesPerSecond,
        get(rt, "relay_single").deliveriesPerSecond,
      ),
  );
  row("soak: chat churn", "connections (seconds)", (rt) => {
    const f = get(rt, "soak");
    return f.connections === undefined ? "–" : `${f.connections} (${f.seconds} s)`;
  });
  row("", "peak RSS", (rt) => {
    const f = get(rt, "soak");
    return typeof f.peakRssMiB === "number" ? `${f.peakRssMiB.toFixed(0)} MiB` : "–";
  });
  row("", "left after (peers, topics, sessions)", (rt) => {
    const f = get(rt, "soak");
    return f.leftPeers === undefined
      ? "–"
      : `${f.leftPeers}, ${f.leftSubscribers}, ${f.leftSessions}`;
  });
  return lines.join("\n") + "\n";
}
