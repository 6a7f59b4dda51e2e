/**
 * `serve()` on Bun: a `Bun.serve` whose upgrade requests go to a Bun handler and whose other
 * requests go to the application's `fetch`. Internal: `serve()` in `src/serve.ts` imports it
 * lazily.
 *
 * @module
 */

import { isUpgrade, refuse } from "../server/handshake.ts";
import { clientModuleFor } from "../server/_client_module.ts";
import { answerPlain, listenOptions, serverHandle } from "../server/listener.ts";
import { refusedTls, type ServeOptions } from "../server/options.ts";
import type { Hooks, Server } from "../server/types.ts";
import type { BunServe } from "./_bun_types.ts";
import { createHandler } from "./bun.ts";

/** `Bun.serve` with its `tls` option, PEM text only. */
interface BunServeTls {
  serve(
    options: Parameters<BunServe["serve"]>[0] & { tls?: { cert: string; key: string } },
  ): ReturnType<BunServe["serve"]>;
}

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
  const clientModule = clientModuleFor(options);
  const bun = (globalThis as unknown as { Bun: BunServeTls }).Bun;
  const tls = options.tls; // checked by serve(): the certificate and key alone
  let server: ReturnType<BunServe["serve"]>;
  try {
    server = bun.serve({
      ...listen,
      ...(tls && { tls }),
      fetch: (request, server) =>
        isUpgrade(request)
          ? handler.handleUpgrade(request, server)
          : answerPlain(request, fetch, clientModule),
      websocket: handler.websocket,
      error(error) {
        console.error("wskit: the server failed on a request:", error);
        return refuse(500, "Internal Server Error");
      },
    });
  } catch (error) {
    // Nothing listens: let go of what the handler holds (a relay), with nobody left to tell.
    handler.close().catch(() => {});
    // BoringSSL's errors carry codes ERR_OSSL_*; the address's are EADDRINUSE and the like.
    const code = (error as { code?: unknown } | null)?.code;
    throw tls && typeof code === "string" && code.startsWith("ERR_OSSL")
      ? refusedTls("Bun", error)
      : error;
  }
  return Promise.resolve(serverHandle(handler, {
    hostname: server.hostname,
    port: server.port,
    secure: tls !== undefined,
    stop: () => server.stop(true),
  }));
}
