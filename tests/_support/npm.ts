/**
 * npm packages that a test needs and wskit never depends on (Hono), installed on demand with
 * `npm install --prefix` into `tests/.deps/` (git ignores it) and imported by file path.
 *
 * A file path is the one way in that works the same on both runtimes: Bun has no `npm:`
 * specifiers, and Deno resolves `npm:` into the repository's own `node_modules` (it holds a
 * `package.json`, so Deno runs with `nodeModulesDir: "manual"`), where these packages must
 * not be. npm runs with `--prefer-offline`, so a package in npm's cache installs without the
 * registry. Where npm or its registry cannot be reached, the caller skips with the reason.
 */

import { readText, removeDir, rename, writeBytes } from "./files.ts";
import { which } from "./harness.ts";
import { root, runToEnd } from "./process.ts";

/** The folder the packages are installed in, one folder per package and major version. */
const DEPS = `${root}tests/.deps/`;

/** A package ready to import by file path, or why it cannot be had. */
export type NpmPackage = { entry: string; version: string } | { unavailable: string };

interface Manifest {
  version?: string;
  main?: string;
  exports?: { ".": { import?: string; default?: string } | string };
}

/** The installed package in `dir`, when its version is `major`.x. */
async function found(dir: string, name: string, major: number): Promise<NpmPackage | undefined> {
  const folder = `${dir}node_modules/${name}/`;
  const text = await readText(`${folder}package.json`);
  if (text === undefined) return undefined;
  const manifest = JSON.parse(text) as Manifest;
  if (!manifest.version?.startsWith(`${major}.`)) return undefined;
  const main = manifest.exports?.["."];
  const entry = typeof main === "string" ? main : main?.import ?? main?.default ?? manifest.main;
  if (entry === undefined) return undefined;
  return { entry: `${folder}${entry.replace(/^\.\//, "")}`, version: manifest.version };
}

/**
 * The npm package `name` at major version `major`, installed into `tests/.deps/` unless it is
 * there already. A test imports `entry` (the package's ES module entry) by file path.
 *
 * npm installs into a folder of its own first, renamed into place once complete, so that a
 * second test process installing at the same time cannot leave a half-written package.
 *
 * @param name The package's name.
 * @param major The major version the test is written against.
 * @returns The entry file and the installed version, or why the package cannot be had.
 */
export async function npmPackage(name: string, major: number): Promise<NpmPackage> {
  const dir = `${DEPS}${name}@${major}/`;
  const there = await found(dir, name, major);
  if (there) return there;
  const npm = which("npm");
  if (!npm) return { unavailable: "npm is not installed" };
  const temp = `${DEPS}.installing-${crypto.randomUUID()}/`;
  // A package.json of its own, so that npm never takes wskit's for the project.
  await writeBytes(`${temp}package.json`, new TextEncoder().encode('{ "private": true }\n'));
  const failed = await runToEnd(npm, [
    "install",
    "--prefix",
    temp,
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    "--fetch-retries=1",
    "--fetch-retry-mintimeout=2000",
    "--fetch-timeout=30000",
    `${name}@${major}`,
  ], 120_000);
  if (failed) {
    await removeDir(temp);
    return { unavailable: `cannot install ${name}@${major} with npm (${failed})` };
  }
  // A stale version in place goes; a complete install that won a race stays.
  if (!(await found(dir, name, major))) await removeDir(dir);
  if (!(await rename(temp, dir))) await removeDir(temp);
  return await found(dir, name, major) ??
    { unavailable: `npm did not install ${name}@${major} as asked` };
}
