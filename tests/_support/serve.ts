/** Runs a test body against a fresh in-process server on a free port, closed afterwards. */

import { type Hooks, serve, type ServeOptions, type Server } from "@wskit/wskit";

/** Starts `serve(hooks)` on port 0, runs `body`, and closes the server whatever happens. */
export async function withServer<T>(
  hooks: Hooks<T>,
  body: (server: Server<T>) => Promise<void>,
  options: ServeOptions = {},
): Promise<void> {
  const server = await serve(hooks, { port: 0, ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}
