/**
 * Serves a peer's `fetch` handler on Deno (`Deno.serve`) or Bun (`Bun.serve`, with the
 * peer's `websocket` handlers) on 127.0.0.1, and says `ready <port>` once it listens.
 *
 * @module
 */

import { ready } from "../servers/_control.ts";

/** A `fetch` handler: on Deno the second argument is the connection info, on Bun the server. */
export type Fetch = (
  request: Request,
  second: unknown,
) => Response | Promise<Response> | undefined | Promise<Response | undefined>;

interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    fetch: Fetch;
    websocket: unknown;
  }): { port: number };
}

/** Whether this process runs on Bun. */
export const onBun: boolean = "Bun" in globalThis;

/** Listens on `port` (0: any) with `fetch`, and on Bun the `websocket` handlers. */
export function listen(port: number, fetch: Fetch, websocket?: unknown): void {
  if (onBun) {
    const server = (globalThis as unknown as { Bun: BunServe }).Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch,
      websocket,
    });
    ready(server.port);
    return;
  }
  Deno.serve(
    { hostname: "127.0.0.1", port, onListen: (addr) => ready(addr.port) },
    async (request, info) =>
      await fetch(request, info) ?? new Response("Upgrade Required\n", { status: 426 }),
  );
}
