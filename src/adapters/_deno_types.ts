/**
 * The parts of Deno's runtime API the adapter uses, declared here (no `Deno` namespace, no
 * global declarations), so that the adapter type-checks in any program: a Bun project that
 * imports `@wskit/wskit` has `serve()`, and so this adapter, in its graph. A leaf.
 *
 * @module
 */

/** The part of `Deno.ServeHandlerInfo` the adapter reads. */
export interface DenoServeInfo {
  /** The remote address of the connection. */
  readonly remoteAddr?: { readonly transport: string; readonly hostname?: string };
}

/** The part of a `Deno.TcpConn` the Redis link uses. */
export interface DenoTcpConn {
  /** Bytes from the other side. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the other side. */
  readonly writable: WritableStream<Uint8Array>;
  /** Turns Nagle's algorithm off (or on). */
  setNoDelay(noDelay?: boolean): void;
  /** Closes the connection. */
  close(): void;
}

/** The part of the `Deno` global the adapters use. */
export interface DenoRuntime {
  /** Upgrades a request; throws for a request that is no valid upgrade. */
  upgradeWebSocket(
    request: Request,
    options: { idleTimeout: number },
  ): { socket: WebSocket; response: Response };
  /** Starts an HTTP server on TCP, with TLS when given a certificate and key. */
  serve(
    options: {
      port: number;
      hostname: string;
      reusePort: boolean;
      cert?: string;
      key?: string;
      onListen(): void;
    },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  /** Opens a TCP connection. */
  connect(options: { hostname: string; port: number }): Promise<DenoTcpConn>;
  /** The error classes the adapters tell apart. */
  readonly errors: {
    /** Thrown for malformed input, such as a certificate block that holds none. */
    readonly InvalidData: new (...args: never[]) => Error;
  };
}

/** The part of a `Deno.HttpServer` on TCP that `serve()` uses. */
export interface DenoHttpServer {
  /** Where the server listens. */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** Stops listening once the open requests are answered. */
  shutdown(): Promise<void>;
}

/** `globalThis` as the adapters read it: `Deno` is there when they run. */
export interface DenoGlobal {
  /** The `Deno` namespace. */
  readonly Deno: DenoRuntime;
}
