/**
 * Where a subject's CPU time goes: `deno task bench:profile <subject> [echo|chat] [seconds]`.
 *
 * Starts the subject with the runtime's sampling profiler (`--cpu-prof` on both Deno and
 * Bun), drives it with the load client (32 connections x 8 echoes in flight, or the chat),
 * lets it exit normally so that the profile is written, and prints the functions with the
 * most self time and the share of busy samples with a wskit frame (`src/`) on the stack.
 *
 * @module
 */

import { canPin, killAll, onCpu, spawn, waitForStart } from "../tests/_support/process.ts";
import type { Job } from "./load/window.ts";
import { SUBJECTS } from "./scenarios.ts";
import { serverCommand, startLoadClient } from "./subject.ts";

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function, and the time with a wskit frame anywhere on the stack. */
export function analyze(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const idle = new Set(["(idle)"]);
  let busy = 0, wskit = 0, total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(id)!;
    const name = node.callFrame.functionName || "(anonymous)";
    if (idle.has(name)) return;
    busy += dt;
    const where = node.callFrame.url.replace(/^.*\/(src|bench|ext|node_modules)\//, "$1/");
    const key = `${name} ${where ? `${where}:${node.callFrame.lineNumber + 1}` : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at)!.callFrame.url.includes("/src/")) {
        wskit += dt;
        break;
      }
    }
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  const pct = (x: number) => `${(100 * x / busy).toFixed(1)} %`.padStart(7);
  return [
    `busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s sampled; ` +
    `samples with a wskit (src/) frame on the stack: ${pct(wskit).trim()} of busy`,
    "self time (share of busy):",
    ...rows.map(([k, v]) => `${pct(v)}  ${k}`),
  ].join("\n");
}

async function main(): Promise<number> {
  const [id = "deno_wskit", mode = "echo", secs = "5"] = Deno.args;
  const subject = SUBJECTS.find((s) => s.id === id);
  if (!subject) throw new TypeError(`Cannot profile: no subject ${id}`);
  const pin = await canPin();
  const dir = await Deno.makeTempDir({ prefix: "wskit-prof-" });
  const prof = ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-name=subject.cpuprofile"];
  const server = spawn(...onCpu(pin ? 0 : undefined, serverCommand(subject, mode, 0, prof)));
  const port = Number((await waitForStart(server, /^ready \d+$/, 20_000)).slice(6));
  const measureMs = Number(secs) * 1000;
  const job: Job = mode === "chat"
    ? {
      scenario: "chat",
      port,
      serverPid: server.pid,
      conns: 32,
      batch: 1600,
      warmupMs: 1000,
      measureMs,
    }
    : {
      scenario: "echo",
      port,
      serverPid: server.pid,
      conns: 32,
      inflight: 8,
      warmupMs: 1000,
      measureMs,
    };
  const client = startLoadClient(job, pin);
  const result = await client.waitForLine(/^result /, measureMs + 60_000);
  await client.exited;
  await server.write("exit\n");
  await server.exited;
  console.log(result.slice(0, 200));
  const profile = JSON.parse(await Deno.readTextFile(`${dir}/subject.cpuprofile`)) as Profile;
  console.log(analyze(profile));
  console.log(`profile: ${dir}/subject.cpuprofile`);
  return 0;
}

try {
  Deno.exit(await main());
} catch (e) {
  console.error(e);
  await killAll();
  Deno.exit(1);
}
