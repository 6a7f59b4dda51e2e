/**
 * Mutation check: puts deliberate one-line bugs into a copy of the repository, one at a time,
 * and runs the tests that should catch each. A mutation that no test notices ("survived")
 * marks a behaviour the suite does not really hold; one whose `find` text is no longer in its
 * file exactly once ("stale") must be rewritten against the code as it is now.
 *
 *     deno task mutate                 # every mutation, tests on Deno
 *     deno task mutate --bun           # on Bun as well
 *     deno task mutate --only NAME     # one mutation (repeat, or NAME,NAME, for more)
 *     deno task mutate --list          # the mutations and whether each still applies
 *
 * The working tree is never changed (others edit it): the tracked and untracked-but-not-ignored
 * files are copied into a temporary directory, with `node_modules` linked, and the mutations
 * are applied there. Before the mutations, each named test file runs once unmutated; a
 * mutation whose tests already fail then is reported as "broken", not as killed. Tests run
 * with `WSKIT_NO_SKIP=1` (a missing redis-server fails instead of passing by skipping) and,
 * on Deno, `--no-check`, so a mutation must stay valid TypeScript. Exits 1 when a mutation
 * survived or is stale or broken, 2 on bad arguments.
 *
 * @module
 */

import { type Mutation, MUTATIONS, type Runtime } from "./mutations.ts";

/** The repository root, as a path ending in "/". */
const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const decoder = new TextDecoder();

/** What happened to one mutation. */
type Outcome = "killed" | "survived" | "stale" | "broken";

interface Result {
  mutation: Mutation;
  outcome: Outcome;
  /** The first failing test, the stale reason, or what broke. */
  detail: string;
  ms: number;
}

interface Args {
  list: boolean;
  bun: boolean;
  keep: boolean;
  only: string[];
  timeout: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { list: false, bun: false, keep: false, only: [], timeout: 300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--list") args.list = true;
    else if (a === "--bun") args.bun = true;
    else if (a === "--keep") args.keep = true;
    else if (a === "--only") args.only.push(...(argv[++i] ?? "").split(",").filter(Boolean));
    else if (a.startsWith("--only=")) args.only.push(...a.slice(7).split(",").filter(Boolean));
    else if (a === "--timeout") args.timeout = Number(argv[++i]);
    else {
      console.error(`Cannot run: unknown argument ${a}`);
      console.error(
        "usage: deno task mutate [--list] [--bun] [--only NAME] [--timeout S] [--keep]",
      );
      Deno.exit(2);
    }
  }
  if (!(args.timeout > 0)) {
    console.error("Cannot run: --timeout needs a number of seconds > 0");
    Deno.exit(2);
  }
  return args;
}

/** The runtimes a mutation runs on: its own, plus Bun with `--bun`. */
function runtimesOf(m: Mutation, bun: boolean): Runtime[] {
  const own = m.runtimes ?? ["deno"];
  return bun && !own.includes("bun") ? [...own, "bun"] : own;
}

/** How often `needle` occurs in `text`. */
function occurrences(text: string, needle: string): number {
  if (needle === "") return 0;
  let count = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** Why a mutation cannot be applied in the tree at `root`, or undefined when it can. */
function staleness(root: string, m: Mutation): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(root + m.file);
  } catch {
    return `${m.file} is gone`;
  }
  const n = occurrences(text, m.find);
  if (n !== 1) return n === 0 ? "find text not in the file" : `find text occurs ${n} times`;
  const missing = m.tests.filter((t) => !exists(root + t));
  if (missing.length > 0) return `no test file ${missing.join(", ")}`;
  if (m.tests.length === 0) return "names no test file";
  return undefined;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Copies the files git knows of (tracked, or new and not ignored) into a fresh directory. */
async function copyTree(): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error("Cannot copy the repository: git ls-files failed");
  const dir = await Deno.makeTempDir({ prefix: "wskit-mutate-" });
  const made = new Set<string>();
  for (const path of new Set(decoder.decode(out.stdout).split("\0").filter(Boolean))) {
    if (path.startsWith("node_modules/") || !exists(ROOT + path)) continue; // deleted, not staged
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (parent && !made.has(parent)) {
      await Deno.mkdir(`${dir}/${parent}`, { recursive: true });
      made.add(parent);
    }
    await Deno.copyFile(ROOT + path, `${dir}/${path}`);
  }
  await Deno.symlink(`${ROOT}node_modules`, `${dir}/node_modules`);
  return `${dir}/`;
}

interface Run {
  ok: boolean;
  timedOut: boolean;
  output: string;
}

/** Runs test files on one runtime in the copy, stopping at the first failure. */
async function runTests(root: string, runtime: Runtime, files: string[], timeout: number) {
  const args = runtime === "deno"
    ? ["test", "-A", "--no-check", "--fail-fast", ...files]
    : ["test", "--timeout", "120000", "--bail", ...files.map((f) => `./${f}`)];
  const child = new Deno.Command(`${root}node_modules/.bin/${runtime}`, {
    args,
    cwd: root,
    env: { WSKIT_NO_SKIP: "1", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeout * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  // deno-lint-ignore no-control-regex -- strips colours, should a runtime print them anyway
  const output = text.replace(/\x1b\[[0-9;]*m/g, "");
  return { ok: out.success && !timedOut, timedOut, output } satisfies Run;
}

/** The first failing test of a run, from either runtime's report. */
function firstFailure(run: Run, timeout: number): string {
  if (run.timedOut) return `no result within ${timeout} s`;
  const lines = run.output.split("\n");
  const failures = lines.findIndex((l) => l.trim() === "FAILURES");
  for (const line of failures >= 0 ? lines.slice(failures + 1) : []) {
    if (line.includes(" => ")) return line.slice(0, line.lastIndexOf(" => ")).trim();
  }
  const bun = lines.find((l) => l.startsWith("(fail) "));
  if (bun) return bun.slice(7).replace(/ \[[\d.]+m?s\]$/, "").trim();
  const error = lines.find((l) => /^error: /.test(l));
  return error?.trim() ?? "the test run failed";
}

function cell(text: string, width: number): string {
  return text.length > width ? text.slice(0, width - 1) + "…" : text.padEnd(width);
}

function printTable(results: Result[]): void {
  const nameWidth = Math.max(4, ...results.map((r) => r.mutation.name.length));
  console.log(`\n${cell("mutation", nameWidth)}  ${cell("outcome", 9)}  ${cell("s", 5)}  detail`);
  for (const r of results) {
    const s = r.ms ? (r.ms / 1000).toFixed(1) : "-";
    console.log(
      `${cell(r.mutation.name, nameWidth)}  ${cell(r.outcome, 9)}  ${cell(s, 5)}  ${r.detail}`,
    );
  }
}

function list(selected: Mutation[], bun: boolean): void {
  for (const m of selected) {
    const why = staleness(ROOT, m);
    console.log(`${m.name}${why ? `  [stale: ${why}]` : ""}`);
    console.log(`  ${m.behaviour}`);
    console.log(`  ${m.file}: ${JSON.stringify(m.find)} -> ${JSON.stringify(m.replace)}`);
    console.log(`  tests (${runtimesOf(m, bun).join(", ")}): ${m.tests.join(" ")}`);
  }
  console.log(`\n${selected.length} mutations`);
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  const names = new Set(MUTATIONS.map((m) => m.name));
  if (names.size !== MUTATIONS.length) throw new Error("Cannot run: two mutations share a name");
  const unknown = args.only.filter((n) => !names.has(n));
  if (unknown.length > 0) {
    console.error(`Cannot run: no mutation named ${unknown.join(", ")} (see --list)`);
    return 2;
  }
  const selected = args.only.length > 0
    ? MUTATIONS.filter((m) => args.only.includes(m.name))
    : MUTATIONS;
  if (args.list) {
    list(selected, args.bun);
    return 0;
  }

  const started = Date.now();
  const root = await copyTree();
  console.log(`mutate: ${selected.length} mutations in a copy at ${root}`);
  const results: Result[] = [];
  try {
    const runnable: Mutation[] = [];
    for (const m of selected) {
      const why = staleness(root, m);
      if (why) results.push({ mutation: m, outcome: "stale", detail: why, ms: 0 });
      else runnable.push(m);
    }

    // Each test file once, unmutated: a file that fails already proves nothing.
    const baseline = new Map<string, string | undefined>();
    for (const m of runnable) {
      for (const runtime of runtimesOf(m, args.bun)) {
        for (const file of m.tests) {
          const key = `${runtime} ${file}`;
          if (baseline.has(key)) continue;
          const t0 = Date.now();
          const run = await runTests(root, runtime, [file], args.timeout);
          const failed = run.ok ? undefined : firstFailure(run, args.timeout);
          baseline.set(key, failed);
          const took = ((Date.now() - t0) / 1000).toFixed(1);
          console.log(`baseline ${key}: ${failed ? `FAILS (${failed})` : "ok"} in ${took} s`);
        }
      }
    }

    for (const m of runnable) {
      const t0 = Date.now();
      const broken = runtimesOf(m, args.bun).flatMap((runtime) =>
        m.tests.filter((f) => baseline.get(`${runtime} ${f}`) !== undefined)
          .map((f) => `${f} fails on ${runtime} without the mutation`)
      );
      if (broken.length > 0) {
        results.push({ mutation: m, outcome: "broken", detail: broken.join("; "), ms: 0 });
        continue;
      }
      const path = root + m.file;
      const original = await Deno.readTextFile(path);
      await Deno.writeTextFile(path, original.replace(m.find, () => m.replace));
      let result: Result | undefined;
      try {
        for (const runtime of runtimesOf(m, args.bun)) {
          const run = await runTests(root, runtime, m.tests, args.timeout);
          if (run.ok) continue;
          const detail = `${runtime}: ${firstFailure(run, args.timeout)}`;
          result = { mutation: m, outcome: "killed", detail, ms: Date.now() - t0 };
          break;
        }
      } finally {
        await Deno.writeTextFile(path, original);
      }
      result ??= {
        mutation: m,
        outcome: "survived",
        detail: `no test failed in ${m.tests.join(" ")}`,
        ms: Date.now() - t0,
      };
      results.push(result);
      console.log(`${result.outcome.padEnd(8)} ${m.name} (${(result.ms / 1000).toFixed(1)} s)`);
    }
  } finally {
    if (args.keep) console.log(`kept the copy at ${root}`);
    else await Deno.remove(root, { recursive: true });
  }

  const order: Outcome[] = ["survived", "stale", "broken", "killed"];
  results.sort((a, b) => order.indexOf(a.outcome) - order.indexOf(b.outcome));
  printTable(results);
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(
    `\nmutate: ${results.length} mutations: ${count("killed")} killed, ${count("survived")} ` +
      `survived, ${count("stale")} stale, ${count("broken")} broken, in ${seconds} s`,
  );
  return count("survived") + count("stale") + count("broken") > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
