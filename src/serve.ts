/**
 * `serve()`: one call that starts a WebSocket server on whichever runtime runs it. The
 * runtime's adapter is imported lazily, so Deno never loads the Bun adapter and vice versa.
 *
 * @module
 */

import { checkTls, type ServeOptions } from "./server/options.ts";
import type { Hooks, Server } from "./server/types.ts";

/**
 * Starts a WebSocket server on the current runtime (Deno or Bun) and resolves once it
 * listens.
 *
 * @example Echo server
 * ```ts
 * import { serve } from "@wskit/wskit";
 *
 * const server = await serve({
 *   message(peer, message) {
 *     peer.send(message);
 *   },
 * }, { port: 8000 });
 * console.log(`listening on ${server.url}`);
 * ```
 *
 * @typeParam T The per-connection data type, set by the `upgrade` hook.
 * @param hooks The lifecycle hooks.
 * @param options Where to listen, a `fetch` for plain HTTP, endpoint options.
 * @returns The running server: its `url`, `port`, `peers`, `stats()`, `publish()`, `close()`.
 * @throws {TypeError} When `options.tls` is not a PEM certificate and key.
 * @throws {Error} When the runtime is neither Deno nor Bun, or refuses the TLS key.
 */
export async function serve<T = unknown>(
  hooks: Hooks<T>,
  options: ServeOptions = {},
): Promise<Server<T>> {
  const tls = checkTls(options.tls);
  const checked = tls ? { ...options, tls } : options;
  if ("Bun" in globalThis) {
    return await (await import("./adapters/_bun_serve.ts")).serve(hooks, checked);
  } else if ("Deno" in globalThis) {
    return await (await import("./adapters/_deno_serve.ts")).serve(hooks, checked);
  }
  throw new Error("Cannot serve: this runtime is neither Deno nor Bun");
}
