/**
 * The peers' installation, orchestrator side (`deno task bench --peers`): the npm packages in
 * `bench/peers/.deps/` (git ignores it; wskit's own `package.json` is checked to be left as it
 * was), installed with `npm install --prefix` only when what is there does not match the
 * ranges below; the import map Deno runs the peers with (`.deps/deno.json`, npm packages
 * resolved from `.deps/node_modules`, `nodeModulesDir: "manual"`); and the bundles Node runs
 * (`bun build --target=node` into `.deps/out/`, the packages left to Node's own resolution).
 * Peers that cannot be had (no npm, no registry, no Node 20) are skipped with a message.
 *
 * @module
 */

import { which } from "../../tests/_support/harness.ts";
import { root, runtimeBin, runToEnd } from "../../tests/_support/process.ts";
import type { Subject } from "../scenarios.ts";

/** The packages and the versions they must start with (crossws 0.4.x, Socket.IO 4.8.x, ...). */
const PACKAGES: Record<string, string> = {
  crossws: "0.4",
  hono: "4",
  ws: "8",
  "socket.io": "4.8",
};

/** The peers' folder. */
const DEPS = `${root}bench/peers/.deps/`;

/** The config Deno runs the peers with. */
export const DENO_CONFIG: string = `${DEPS}deno.json`;

/** The bundle Node runs for the peer in `file`. */
export function nodeBundle(file: string): string {
  return `${DEPS}out/${file.slice(file.lastIndexOf("/") + 1).replace(/\.ts$/, ".mjs")}`;
}

/** The version of `name` installed in the peers' folder, if any. */
async function installed(name: string): Promise<string | undefined> {
  try {
    const text = await Deno.readTextFile(`${DEPS}node_modules/${name}/package.json`);
    return (JSON.parse(text) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

async function matching(): Promise<boolean> {
  for (const [name, range] of Object.entries(PACKAGES)) {
    if (!(await installed(name))?.startsWith(`${range}.`)) return false;
  }
  return true;
}

/** Installs the packages unless they are there already; resolves with why not, if it failed. */
async function install(): Promise<string | undefined> {
  if (await matching()) return undefined;
  const npm = which("npm");
  if (!npm) return "npm is not installed";
  await Deno.mkdir(DEPS, { recursive: true });
  try {
    await Deno.stat(`${DEPS}package.json`);
  } catch {
    // A package.json of its own, so that npm never looks further up for one.
    await Deno.writeTextFile(
      `${DEPS}package.json`,
      '{ "name": "wskit-bench-peers", "private": true }\n',
    );
  }
  const before = await Deno.readTextFile(`${root}package.json`);
  const specs = Object.entries(PACKAGES).map(([name, range]) => `${name}@${range}`);
  console.log(`peers: npm install --prefix bench/peers/.deps ${specs.join(" ")}`);
  const failed = await runToEnd(npm, [
    "install",
    "--prefix",
    DEPS,
    "--no-audit",
    "--no-fund",
    "--fetch-retries=1",
    "--fetch-timeout=30000",
    ...specs,
  ], 300_000);
  // Not written back: someone may be editing it too. The run stops for a look instead.
  if (await Deno.readTextFile(`${root}package.json`) !== before) {
    throw new Error("Cannot install the peers: wskit's package.json changed during npm install");
  }
  if (failed) return failed;
  return await matching() ? undefined : "npm installed other versions than asked for";
}

/** Node's version when it is 20 or later. */
async function nodeVersion(): Promise<string | undefined> {
  const node = which("node");
  if (!node) return undefined;
  const out = await new Deno.Command(node, { args: ["--version"] }).output();
  const version = new TextDecoder().decode(out.stdout).trim();
  return Number(/^v(\d+)\./.exec(version)?.[1]) >= 20 ? version : undefined;
}

/** What `preparePeers` leaves to run, and what it says about the peers. */
export interface PeerSetup {
  /** The subjects that can run (all but the peers that could not be had). */
  subjects: Subject[];
  /** The installed versions, for the results. */
  versions: string;
}

/**
 * Installs and prepares the peers among `subjects`; the peers that cannot run here are left
 * out, with a message.
 *
 * @throws {Error} When a Node peer fails to build (a fault of the benchmark, not of the host).
 */
export async function preparePeers(subjects: Subject[]): Promise<PeerSetup> {
  const peers = subjects.filter((s) => s.kind === "peer");
  if (peers.length === 0) return { subjects, versions: "" };
  const failed = await install();
  if (failed) {
    console.log(`peers skipped: cannot install them (${failed})`);
    return { subjects: subjects.filter((s) => s.kind !== "peer"), versions: "" };
  }
  const imports: Record<string, string> = {};
  for (const name of Object.keys(PACKAGES)) {
    imports[name] = `npm:${name}`;
    imports[`${name}/`] = `npm:/${name}/`;
  }
  await Deno.writeTextFile(DENO_CONFIG, JSON.stringify({ imports, nodeModulesDir: "manual" }));
  const node = await nodeVersion();
  let ready = subjects;
  if (!node && peers.some((s) => s.runtime === "node")) {
    console.log("peers on Node skipped: no Node 20 or later on PATH");
    ready = subjects.filter((s) => s.runtime !== "node");
  }
  for (const file of new Set(ready.filter((s) => s.runtime === "node").map((s) => s.file))) {
    const args = ["build", `${root}${file}`, "--target=node", `--outfile=${nodeBundle(file)}`];
    const failed = await runToEnd(runtimeBin("bun"), args, 60_000);
    if (failed) throw new Error(`Cannot build ${file} for Node: ${failed}`);
  }
  const versions = await Promise.all(
    Object.keys(PACKAGES).map(async (name) => `${name} ${await installed(name)}`),
  );
  return { subjects: ready, versions: [...versions, ...(node ? [`Node ${node}`] : [])].join(", ") };
}
