/**
 * Lints the documentation of each entry point of the package on its own (`deno doc --lint
 * <entry>`), and checks that every public name has exactly one entry point for its home
 * (`mod.ts` aside, which re-exports everything for convenience).
 *
 * An entry point's API may use a type whose home is another entry point (`createHandler` of
 * `./deno` takes the `Hooks` of `.`): `deno doc` linting one file calls such a type private,
 * so a `private-type-ref` is accepted when the type is exported by another entry point of
 * the package, and only then. Every other finding fails the lint.
 *
 *     deno task doc:lint
 *
 * @module
 */

const root = new URL("..", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const entries = Object.entries(config.exports as Record<string, string>);
const decoder = new TextDecoder();

async function deno(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, out: decoder.decode(stdout), err: decoder.decode(stderr) };
}

interface Symbol {
  name: string;
  declarations?: {
    kind: string;
    jsDoc?: { tags?: { kind: string; doc?: string }[] };
  }[];
}

const untitled: string[] = [];

/**
 * The names an entry point exports; notes each function and class without an `@example`
 * that has a title (its first line, before the code).
 */
async function exported(path: string): Promise<string[]> {
  const { code, out, err } = await deno(["doc", "--json", path]);
  if (code !== 0) throw new Error(`deno doc --json ${path} failed: ${err}`);
  const doc = JSON.parse(out) as { nodes: Record<string, { symbols?: Symbol[] }> };
  const symbols = Object.values(doc.nodes).flatMap((n) => n.symbols ?? []);
  for (const s of symbols) {
    for (const d of s.declarations ?? []) {
      if (d.kind !== "function" && d.kind !== "class") continue;
      const examples = (d.jsDoc?.tags ?? []).filter((t) => t.kind === "example");
      const titled = examples.some((t) => /^[^`\s][^\n]*\n/.test(t.doc ?? ""));
      if (!titled) untitled.push(`${s.name} (${path})`);
    }
  }
  return symbols.map((s) => s.name);
}

const homes = new Map<string, string[]>();
for (const [name, path] of entries) {
  if (name === ".") continue;
  for (const symbol of await exported(path)) homes.set(symbol, [...homes.get(symbol) ?? [], name]);
}
// The root module's own names: those that no other entry point exports.
const rootNames = (await exported(config.exports["."])).filter((s) => !homes.has(s));
for (const symbol of rootNames) homes.set(symbol, ["."]);

const problems: string[] = [];
for (const [symbol, at] of homes) {
  // createHandler is the same act on two runtimes, one symbol per runtime entry point.
  if (at.length > 1 && !(symbol === "createHandler" && at.join() === "./deno,./bun")) {
    problems.push(`"${symbol}" is exported from ${at.length} entry points: ${at.join(", ")}`);
  }
}

for (const u of new Set(untitled)) problems.push(`${u} has no titled @example`);

const PRIVATE = /public type '([^']+)' references private type '([^']+)'/;
for (const [name, path] of entries) {
  const { code, err } = await deno(["doc", "--lint", path]);
  if (code === 0) continue;
  // deno-lint-ignore no-control-regex
  const plain = err.replace(/\x1b\[[0-9;]*m/g, "");
  const findings = plain.split("\n").filter((l) => /^error\[/.test(l));
  for (const line of findings) {
    const m = PRIVATE.exec(line);
    const home = m ? homes.get(m[2]!.replace(/\[.*$/, "").replace(/\..*$/, "")) : undefined;
    if (m && home && !home.includes(name)) continue; // public elsewhere in the package
    problems.push(`${name} (${path}): ${line}`);
  }
}
for (const p of problems) console.error(p);
console.log(
  `doc lint: ${entries.length} entry points, ${homes.size} public names, ${problems.length} problems`,
);
if (problems.length > 0) Deno.exit(1);
