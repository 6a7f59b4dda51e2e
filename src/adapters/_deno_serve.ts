/**
 * `serve()` on Deno: a `Deno.serve` whose upgrade requests go to a Deno handler and whose
 * other requests go to the application's `fetch`. Internal: `serve()` in `src/serve.ts`
 * imports it lazily.
 *
 * @module
 */

import { answerPlain, listenOptions, serverHandle } from "../server/listener.ts";
import type { ServeOptions } from "../server/options.ts";
import type { Hooks, Server } from "../server/types.ts";
import { isUpgrade } from "../server/handshake.ts";
import { createHandler } from "./deno.ts";

/**
 * Starts a Deno server whose every upgrade request goes to `hooks`.
 *
 * @param hooks The application's hooks.
 * @param options Where to listen, a `fetch` for plain requests, endpoint options.
 * @returns The running server.
 */
export function serve<T = unknown>(
  hooks: Hooks<T>,
  options: ServeOptions = {},
): Promise<Server<T>> {
  const { listen, endpoint } = listenOptions(options);
  const handler = createHandler(hooks, endpoint);
  const fetch = options.fetch;
  const server = Deno.serve(
    { ...listen, onListen() {} },
    (request, info) =>
      isUpgrade(request) ? handler.handleUpgrade(request, info) : answerPlain(request, fetch),
  );
  const addr = server.addr as Deno.NetAddr;
  return Promise.resolve(serverHandle(handler, {
    hostname: addr.hostname,
    port: addr.port,
    stop: () => server.shutdown(),
  }));
}
