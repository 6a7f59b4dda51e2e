/**
 * The shape of the house, checked: the import graph of `src/` (from `deno info --json`, type
 * imports and lazy `import()` included) has no circles and no import that runs back up a
 * layer; type leaves import only type leaves; the browser side imports nothing of the
 * server; no file is over 400 lines; each adapter is under 200 lines of code.
 *
 *     deno task layers
 *
 * Layers, from the ground up: the shared leaves (`src/_*.ts`); the server core
 * (`src/server/`) and, beside it and apart from it, the client (`src/client/`); the adapters
 * (`src/adapters/`); the session layer (`src/session/`); the relays (`src/relay/`); the
 * faces (`src/serve.ts`, `src/browser.ts`); `mod.ts`.
 *
 * @module
 */

const root = new URL("..", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);

/** Where a file stands: its layer and its wing (files of one layer may not mix wings). */
function place(path: string): { layer: number; wing: string } {
  if (path === "mod.ts") return { layer: 6, wing: "mod" };
  if (path === "src/serve.ts" || path === "src/browser.ts") return { layer: 5, wing: "face" };
  const m = /^src\/([a-z_]+)\//.exec(path);
  if (!m) return { layer: 0, wing: "shared" };
  const wing = m[1]!;
  const layers: Record<string, number> = {
    server: 1,
    client: 1,
    adapters: 2,
    session: 3,
    relay: 4,
  };
  if (!(wing in layers)) throw new Error(`Cannot place ${path}: src/${wing}/ is no known wing`);
  return { layer: layers[wing]!, wing };
}

/** Modules that hold types (and constants) only: they may import other leaves only. */
const LEAVES = new Set([
  "src/_check.ts",
  "src/_utf8.ts",
  "src/server/types.ts",
  "src/server/options.ts",
  "src/server/stats.ts",
  "src/server/relay.ts",
  "src/server/driver.ts",
  "src/adapters/_bun_types.ts",
  "src/adapters/_deno_types.ts",
  "src/session/types.ts",
  "src/session/store.ts",
]);

/** What runs in a browser page: it must reach nothing of the server, adapters or relays. */
const BROWSER = ["src/browser.ts"];

interface Module {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

async function info(entry: string): Promise<Module[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno info failed: ${new TextDecoder().decode(stderr)}`);
  return (JSON.parse(new TextDecoder().decode(stdout)) as { modules: Module[] }).modules;
}

async function graph(entries: string[]): Promise<Map<string, Set<string>>> {
  const modules: Module[] = [];
  for (let i = 0; i < entries.length; i += 8) {
    for (const m of await Promise.all(entries.slice(i, i + 8).map(info))) modules.push(...m);
  }
  const local = (s: string) =>
    s.startsWith("file://") ? decodeURIComponent(new URL(s).pathname).slice(rootPath.length) : "";
  const edges = new Map<string, Set<string>>();
  for (const m of modules) {
    const from = local(m.specifier);
    if (!from || !(from === "mod.ts" || from.startsWith("src/"))) continue;
    const to = edges.get(from) ?? new Set<string>();
    edges.set(from, to);
    for (const d of m.dependencies ?? []) {
      for (const r of [d.code, d.type]) {
        const target = r ? local(r.specifier) : "";
        if (target.startsWith("src/") || target === "mod.ts") to.add(target);
      }
    }
  }
  return edges;
}

/** Strongly connected components with more than one file, or a file importing itself. */
function circles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      on.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || edges.get(v)?.has(v)) out.push(component.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}

function reach(edges: Map<string, Set<string>>, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length > 0) {
    const v = todo.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const w of edges.get(v) ?? []) todo.push(w);
  }
  return seen;
}

/** Lines of code: not blank, not only a comment. */
function codeLines(text: string): number {
  let n = 0;
  let inBlock = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (inBlock) {
      if (line.includes("*/")) inBlock = false;
      continue;
    }
    if (line === "" || line.startsWith("//")) continue;
    if (line.startsWith("/*")) {
      inBlock = !line.includes("*/");
      continue;
    }
    n++;
  }
  return n;
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, root))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) out.push(...await files(`${path}/`));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

const problems: string[] = [];
const sources = await files("src/");
const edges = await graph(["mod.ts", ...sources]);
for (const c of circles(edges)) problems.push(`circle: ${c.join(" -> ")}`);
for (const [from, targets] of edges) {
  const a = place(from);
  for (const to of targets) {
    const b = place(to);
    if (b.layer > a.layer) {
      problems.push(`upward: ${from} (layer ${a.layer}) imports ${to} (layer ${b.layer})`);
    } else if (b.layer === a.layer && b.wing !== a.wing) {
      problems.push(`across: ${from} (${a.wing}) imports ${to} (${b.wing})`);
    }
    if (LEAVES.has(from) && !LEAVES.has(to)) problems.push(`leaf: ${from} imports ${to}`);
  }
}
for (const entry of BROWSER) {
  for (const f of reach(edges, entry)) {
    if (/^src\/(server|adapters|relay)\//.test(f)) problems.push(`browser: ${entry} reaches ${f}`);
  }
}
for (const f of [...sources, ...await files("examples/")]) {
  const text = await Deno.readTextFile(new URL(f, root));
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lines > 400) problems.push(`size: ${f} has ${lines} lines (at most 400)`);
  if (/^src\/adapters\/(deno|bun)\.ts$/.test(f) && codeLines(text) >= 200) {
    problems.push(`size: ${f} has ${codeLines(text)} lines of code (under 200)`);
  }
}
const adapters = ["src/adapters/deno.ts", "src/adapters/bun.ts"].map(async (f) =>
  `${f} ${codeLines(await Deno.readTextFile(new URL(f, root)))}`
);
for (const p of problems) console.error(p);
console.log(
  `layers: ${edges.size} modules, ${
    [...edges.values()].reduce((n, s) => n + s.size, 0)
  } imports, ` +
    `${problems.length} problems; adapters' lines of code: ${
      (await Promise.all(adapters)).join(", ")
    }`,
);
if (problems.length > 0) Deno.exit(1);
