/**
 * Types for every user, checked:
 *
 * 1. A project set up the way Bun sets one up (`bun init`: `lib: ["ESNext"]`,
 *    `types: ["bun"]`, `@types/bun` and TypeScript from npm) installs the package as
 *    `bun pm pack` makes it and imports every entry point; `bun check` (what `bun init`'s
 *    `typecheck` script runs) must report no error. Bun's type library lacks DOM-only names
 *    (`HeadersInit`, ...) and `Deno`, and `serve()` puts the Deno adapter in Bun's program.
 *    The same project is checked again with `lib: ["ESNext", "DOM"]`, as `bun init --react`
 *    sets it up (a full-stack app, the server and the browser client in one program).
 * 2. The browser-facing modules (`src/browser.ts`, `src/client/`, `src/session/client.ts`)
 *    type-check with the DOM library alone: no Deno and no Bun types.
 * 3. The current TypeScript from npm accepts the repository's `tsconfig.json` (Bun reads
 *    it for the tests' import map).
 *
 *     deno task check:bun-types
 *
 * It works in `.cache/bun-init/` (ignored by git), made afresh on every run, and needs the
 * npm registry for what `bun init` installs. Exits with 1 when any check finds an error.
 *
 * @module
 */

import type { DenoRuntime } from "../src/adapters/_deno_types.ts";

// The adapters declare the part of Deno's API they use themselves, so that Bun's program has
// no need of Deno's types; this keeps that declaration true to Deno's own (in `deno check`).
Deno satisfies DenoRuntime;

const ROOT = new URL("..", import.meta.url);
const CACHE = new URL(".cache/bun-init/", ROOT);
const APP = new URL("app/", CACHE);
const DOM = new URL("dom/", CACHE);
const TARBALL = new URL("wskit.tgz", CACHE);
const BUN = new URL("node_modules/.bin/bun", ROOT);
/** No step waits longer than this (an install on a slow network included). */
const STEP_TIMEOUT_MS = 300_000;
const decoder = new TextDecoder();

const path = (url: URL) => decodeURIComponent(url.pathname);

/** Runs a command to its end (or the step timeout); its output, merged, and exit code. */
async function run(cmd: URL | string, args: string[], cwd: URL): Promise<{
  code: number;
  output: string;
}> {
  const { code, stdout, stderr } = await new Deno.Command(
    typeof cmd === "string" ? cmd : path(cmd),
    {
      args,
      cwd: path(cwd),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
      env: { NO_COLOR: "1" },
    },
  ).output();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** Runs a setup step; a failed one ends the script, since nothing after it can be checked. */
async function setup(what: string, cmd: URL | string, args: string[], cwd: URL): Promise<void> {
  const { code, output } = await run(cmd, args, cwd);
  if (code === 0) return;
  console.error(output.trimEnd());
  console.error(`Cannot ${what}: the command exited with ${code}`);
  Deno.exit(1);
}

/** The `file(line,col): error TS...` lines of a type check, one per error. */
function errorLines(output: string): string[] {
  return output.split("\n").filter((line) => /\): error TS\d+:/.test(line));
}

/** The entry points of the package, as Bun resolves them; deno.json must name the same. */
async function entryPoints(): Promise<string[]> {
  const read = async (file: string) =>
    Object.keys(JSON.parse(await Deno.readTextFile(new URL(file, ROOT))).exports);
  const npm = await read("package.json");
  const jsr = await read("deno.json");
  if (npm.join() !== jsr.join()) {
    console.error(`package.json exports ${npm.join(" ")}; deno.json exports ${jsr.join(" ")}`);
    console.error(
      "Cannot check the entry points: package.json and deno.json export different ones",
    );
    Deno.exit(1);
  }
  return npm;
}

/** An index.ts that imports every entry point and echoes, as a Bun user's first program. */
function indexSource(entries: string[]): string {
  const names = entries.map((_, i) => `entry${i}`);
  const imports = entries.map((e, i) => {
    const specifier = e === "." ? "@wskit/wskit" : `@wskit/wskit/${e.slice(2)}`;
    return `import * as ${names[i]} from "${specifier}";`;
  });
  return [
    ...imports,
    "",
    "const server = await entry0.serve({",
    "  message(peer, message) {",
    "    peer.send(message);",
    "  },",
    "});",
    `console.log(server.url, ${names.join(", ")});`,
    "",
  ].join("\n");
}

/** The DOM-only program: the browser's library, the project's strictness, no runtime types. */
function domConfig(): string {
  const src = (file: string) => `../../../src/${file}`;
  return JSON.stringify(
    {
      compilerOptions: {
        lib: ["ES2022", "DOM"],
        types: [],
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        allowImportingTsExtensions: true,
        noEmit: true,
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noImplicitOverride: true,
      },
      files: [src("browser.ts"), src("session/client.ts")],
      include: [src("client/*.ts")],
    },
    null,
    2,
  );
}

const entries = await entryPoints();
await Deno.remove(CACHE, { recursive: true }).catch(() => {});
await Deno.mkdir(APP, { recursive: true });
await Deno.mkdir(DOM, { recursive: true });

await setup("pack the package", BUN, [
  "pm",
  "pack",
  "--filename",
  path(TARBALL),
  "--quiet",
  "--ignore-scripts",
], ROOT);
await setup("set up a project with bun init", BUN, ["init", "--yes"], APP);
await setup("install the package into the bun init project", BUN, ["add", path(TARBALL)], APP);
await Deno.writeTextFile(new URL("index.ts", APP), indexSource(entries));
const typescript = JSON.parse(
  await Deno.readTextFile(new URL("node_modules/typescript/package.json", APP)),
).version;

const failures: string[] = [];

/**
 * Runs `bun check` with `args` in `cwd`; on any error prints the output and notes a failure.
 * A clean check says how many files it checked, so a program that lost its files fails too.
 */
async function check(what: string, args: string[], cwd: URL): Promise<void> {
  const { code, output } = await run(BUN, ["check", "--no-pretty", ...args], cwd);
  const errors = errorLines(output);
  if (code === 0 && errors.length === 0 && /No type errors in \d+ files/.test(output)) return;
  console.log(output.trimEnd());
  const toolkit = errors.filter((line) => line.startsWith("node_modules/@wskit/wskit/")).length;
  failures.push(`${what}: ${errors.length} errors (${toolkit} in the toolkit's files)`);
}

// 1. bun init's project, every entry point; then the same project with the DOM library as
// well, as `bun init --react` sets it up (lib ESNext and DOM; its React types aside).
await check("bun check in a bun init project", [], APP);
await Deno.writeTextFile(
  new URL("tsconfig.react.json", APP),
  JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { lib: ["ESNext", "DOM"] } }),
);
await check("the same with lib ESNext and DOM", ["-p", "tsconfig.react.json"], APP);

// 2. The browser-facing modules with the DOM library only.
await Deno.writeTextFile(new URL("tsconfig.json", DOM), domConfig() + "\n");
await check("the browser modules with lib DOM only", ["-p", path(DOM)], ROOT);

// 3. The repository's tsconfig.json under the current TypeScript: only errors in the file
// itself count (the code there is Deno's, which this program has no types for).
const tsc = await run(BUN, [
  path(new URL("node_modules/.bin/tsc", APP)),
  "--noEmit",
  "--pretty",
  "false",
  "-p",
  "tsconfig.json",
], ROOT);
const configErrors = errorLines(tsc.output).filter((line) => line.startsWith("tsconfig.json("));
if (tsc.code !== 0 && errorLines(tsc.output).length === 0) {
  console.log(tsc.output.trimEnd());
  failures.push(`tsc exited with ${tsc.code} and reported no error: it did not check`);
} else if (configErrors.length > 0) {
  console.log(configErrors.join("\n"));
  failures.push(`tsconfig.json under TypeScript ${typescript}: ${configErrors.length} errors`);
}

const bun = (await run(BUN, ["--version"], ROOT)).output.trim();
if (failures.length > 0) {
  console.log(`bun ${bun}, TypeScript ${typescript}: FAILED`);
  for (const f of failures) console.log(`- ${f}`);
  Deno.exit(1);
}
console.log(
  `bun ${bun}, TypeScript ${typescript}: bun check is clean in a bun init project importing ` +
    `${entries.length} entry points, with lib DOM too; the browser modules check with lib ` +
    "DOM only; tsconfig.json is accepted",
);
