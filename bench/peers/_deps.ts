/**
 * How a peer subject loads its npm packages from `bench/peers/.deps/`, where `install.ts` put
 * them (they are never dependencies of wskit): on Bun through `Bun.resolveSync` from that
 * folder; on Deno by bare name, which the import map of the generated `.deps/deno.json`
 * (passed with `--config`, `nodeModulesDir: "manual"`) sends to `.deps/node_modules`; on Node
 * by bare name from the bundle `install.ts` builds into `.deps/out/`.
 *
 * @module
 */

/** The folder the peers are installed in. */
const DEPS = decodeURIComponent(new URL("./.deps/", import.meta.url).pathname);

interface BunResolve {
  resolveSync(specifier: string, from: string): string;
}

/**
 * Imports `specifier` from the peers' folder. The specifier is a variable, so that the type
 * check of the repository, which has no such packages, does not try to resolve it.
 */
export async function load<T>(specifier: string): Promise<T> {
  const bun = (globalThis as unknown as { Bun?: BunResolve }).Bun;
  return await import(bun ? bun.resolveSync(specifier, DEPS) : specifier) as T;
}
