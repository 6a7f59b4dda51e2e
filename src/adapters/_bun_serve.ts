/**
 * `serve()` on Bun: a `Bun.serve` whose upgrade requests go to a Bun handler and whose other
 * requests go to the application's `fetch`. Internal: `serve()` in `src/serve.ts` imports it
 * lazily.
 *
 * @module
 */

import { isUpgrade, refuse } from "../server/handshake.ts";
import { answerPlain, listenOptions, serverHandle } from "../server/listener.ts";
import type { ServeOptions } from "../server/options.ts";
import type { Hooks, Server } from "../server/types.ts";
import type { BunServe } from "./_bun_types.ts";
import { createHandler } from "./bun.ts";

/**
 * Starts a Bun server whose every upgrade request goes to `hooks`.
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
  const bun = (globalThis as unknown as { Bun: BunServe }).Bun;
  const server = bun.serve({
    ...listen,
    fetch: (request, server) =>
      isUpgrade(request) ? handler.handleUpgrade(request, server) : answerPlain(request, fetch),
    websocket: handler.websocket,
    error(error) {
      console.error("wskit: the server failed on a request:", error);
      return refuse(500, "Internal Server Error");
    },
  });
  return Promise.resolve(serverHandle(handler, {
    hostname: server.hostname,
    port: server.port,
    stop: () => server.stop(true),
  }));
}
