/**
 * `serve()` on Deno: a `Deno.serve` whose upgrade requests go to a Deno handler and whose
 * other requests go to the application's `fetch`. Internal: `serve()` in `src/serve.ts`
 * imports it lazily.
 *
 * @module
 */

import { clientModuleFor } from "../server/_client_module.ts";
import { answerPlain, listenOptions, serverHandle } from "../server/listener.ts";
import { refusedTls, type ServeOptions } from "../server/options.ts";
import type { Hooks, Server } from "../server/types.ts";
import { isUpgrade } from "../server/handshake.ts";
import type { DenoGlobal, DenoHttpServer } from "./_deno_types.ts";
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
  const clientModule = clientModuleFor(options);
  const tls = options.tls; // checked by serve(): the certificate and key alone
  let server: DenoHttpServer;
  try {
    server = (globalThis as unknown as DenoGlobal).Deno.serve(
      { ...listen, ...tls, onListen() {} },
      (request, info) =>
        isUpgrade(request)
          ? handler.handleUpgrade(request, info)
          : answerPlain(request, fetch, clientModule),
    );
  } catch (error) {
    // Nothing listens: let go of what the handler holds (a relay), with nobody left to tell.
    handler.close().catch(() => {});
    throw tls && refusesTls(error) ? refusedTls("Deno", error) : error;
  }
  const addr = server.addr;
  return Promise.resolve(serverHandle(handler, {
    hostname: addr.hostname,
    port: addr.port,
    secure: tls !== undefined,
    stop: () => server.shutdown(),
  }));
}

/**
 * Whether Deno refused the certificate or key (`InvalidData` for a block that holds none, an
 * `Error` naming keys or certificates otherwise), not the address (`AddrInUse`, ...).
 */
function refusesTls(error: unknown): boolean {
  return error instanceof (globalThis as unknown as DenoGlobal).Deno.errors.InvalidData ||
    (error instanceof Error && /\b(?:keys?|certificates?)\b/i.test(error.message));
}
