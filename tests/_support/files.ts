/**
 * Files and folders on either runtime: Deno's own API, or Node's `fs` under Bun (Bun has no
 * folder API of its own). For helpers that keep state on disk: the browser's profile
 * (cdp.ts), the npm packages a test installs (npm.ts).
 */

import { env } from "./harness.ts";

interface DenoFiles {
  makeTempDir(o: { prefix: string }): Promise<string>;
  mkdir(path: string, o: { recursive: boolean }): Promise<void>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readTextFile(path: string): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string, o: { recursive: boolean }): Promise<void>;
}
interface NodeFiles {
  mkdtemp(prefix: string): Promise<string>;
  mkdir(path: string, o: { recursive: boolean }): Promise<unknown>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readFile(path: string, encoding: "utf8"): Promise<string>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, o: { recursive: boolean; force: boolean }): Promise<void>;
}

const denoFiles = (globalThis as unknown as { Deno?: DenoFiles }).Deno;
// The specifier is a variable so that Deno's type check does not look for Node's types.
const nodeFsSpecifier = "node:fs/promises";
const nodeFiles: NodeFiles | undefined = denoFiles
  ? undefined
  : (await import(nodeFsSpecifier)) as NodeFiles;

/** Creates a fresh folder under the system's temporary folder; resolves with its path. */
export function tempDir(prefix: string): Promise<string> {
  if (denoFiles) return denoFiles.makeTempDir({ prefix });
  return nodeFiles!.mkdtemp(`${env("TMPDIR") ?? "/tmp"}/${prefix}`);
}

/** Removes a folder and all it holds; quiet when it is gone already. */
export async function removeDir(path: string): Promise<void> {
  try {
    if (denoFiles) await denoFiles.remove(path, { recursive: true });
    else await nodeFiles!.rm(path, { recursive: true, force: true });
  } catch { /* gone already */ }
}

/** Writes `data` to `path`, creating its folder. */
export async function writeBytes(path: string, data: Uint8Array): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  await (denoFiles ?? nodeFiles)!.mkdir(dir, { recursive: true });
  await (denoFiles ?? nodeFiles)!.writeFile(path, data);
}

/** The text of the file at `path`, or `undefined` when it cannot be read. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return denoFiles ? await denoFiles.readTextFile(path) : await nodeFiles!.readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Renames `from` to `to`; resolves `false` when it cannot (`to` is a folder that exists). */
export async function rename(from: string, to: string): Promise<boolean> {
  try {
    await (denoFiles ?? nodeFiles)!.rename(from, to);
    return true;
  } catch {
    return false;
  }
}
