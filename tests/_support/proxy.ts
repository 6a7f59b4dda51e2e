/**
 * A loopback TCP proxy that tests use to break links on purpose: `cut()` drops every
 * connection through it at once (as a network failure would), `freeze()` stops forwarding
 * in both directions without closing anything (a half-open link), `thaw()` resumes,
 * `refuse()` stops listening (a host whose server is gone), and `onUpstream` watches what
 * clients send, with the time each connection was accepted.
 */

import { connectTcp, listenTcp, type TcpConn, type TcpListener } from "./tcp.ts";

/** One connection through the proxy, as `onUpstream` sees it. */
export interface ProxiedConnection {
  /** 1 for the first connection accepted, then 2, ... */
  readonly id: number;
  /** `Date.now()` when the proxy accepted it. */
  readonly acceptedAt: number;
}

/** Options of {@linkcode startProxy}. */
export interface ProxyOptions {
  /** Sees every chunk a client sends, before it is forwarded (or dropped while frozen). */
  onUpstream?: (connection: ProxiedConnection, data: Uint8Array) => void;
}

/** A running proxy in front of `127.0.0.1:target`. */
export interface Proxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Drops every current connection, both sides. */
  cut(): void;
  /** Stops forwarding without closing. */
  freeze(): void;
  /** Forwards again. */
  thaw(): void;
  /** While down, new connections are closed as soon as they arrive (a server that is gone). */
  down(isDown: boolean): void;
  /**
   * While refusing, nothing listens on the port, so connecting fails at once, and current
   * connections are dropped; `refuse(false)` listens on the same port again.
   */
  refuse(isRefusing: boolean): void;
  /** Sends new connections to another port (a load balancer that moved the client). */
  retarget(port: number): void;
  /** Stops listening and drops everything. */
  close(): void;
}

/** Starts a proxy to `127.0.0.1:target` on a free port. */
export function startProxy(target: number, options: ProxyOptions = {}): Proxy {
  let to = target;
  let frozen = false;
  let isDown = false;
  let accepted = 0;
  const pairs = new Set<TcpConn[]>();
  const onAccept = (down: TcpConn) => {
    if (isDown) return down.close();
    const info: ProxiedConnection = { id: ++accepted, acceptedAt: Date.now() };
    const pair: TcpConn[] = [down];
    pairs.add(pair);
    const early: Uint8Array[] = [];
    let up: TcpConn | undefined;
    down.onData((d) => {
      options.onUpstream?.(info, d);
      if (frozen) return;
      if (up) up.write(d);
      else early.push(d.slice());
    });
    down.closed.then(() => {
      up?.close();
      pairs.delete(pair);
    });
    connectTcp(to).then((conn) => {
      up = conn;
      pair.push(conn);
      if (!pairs.has(pair)) return conn.close();
      for (const d of early) conn.write(d);
      conn.onData((d) => {
        if (!frozen) down.write(d);
      });
      conn.closed.then(() => down.close());
    }, () => down.close());
  };
  let listener: TcpListener | undefined = listenTcp(0, onAccept);
  const port = listener.port;
  const cut = () => {
    for (const pair of [...pairs]) for (const c of pair) c.close();
    pairs.clear();
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut,
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    down: (value) => void (isDown = value),
    refuse(value) {
      if (value) {
        listener?.close();
        listener = undefined;
        cut();
      } else listener ??= listenTcp(port, onAccept);
    },
    retarget: (p) => void (to = p),
    close() {
      listener?.close();
      listener = undefined;
      cut();
    },
  };
}
