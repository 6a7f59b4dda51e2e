/**
 * A loopback TCP proxy that tests use to break links on purpose: `cut()` drops every
 * connection through it at once (as a network failure would), `freeze()` stops forwarding
 * in both directions without closing anything (a half-open link), `thaw()` resumes.
 */

import { connectTcp, listenTcp, type TcpConn } from "./_tcp.ts";

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
  /** Sends new connections to another port (a load balancer that moved the client). */
  retarget(port: number): void;
  /** Stops listening and drops everything. */
  close(): void;
}

/** Starts a proxy to `127.0.0.1:target` on a free port. */
export function startProxy(target: number): Proxy {
  let to = target;
  let frozen = false;
  let isDown = false;
  let accepted = 0;
  const pairs = new Set<TcpConn[]>();
  const listener = listenTcp(0, (down) => {
    if (isDown) return down.close();
    accepted++;
    const pair: TcpConn[] = [down];
    pairs.add(pair);
    const early: Uint8Array[] = [];
    let up: TcpConn | undefined;
    down.onData((d) => {
      if (frozen) return;
      if (up) up.write(d);
      else early.push(d);
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
  });
  const cut = () => {
    for (const pair of [...pairs]) for (const c of pair) c.close();
    pairs.clear();
  };
  return {
    port: listener.port,
    get accepted() {
      return accepted;
    },
    cut,
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    down: (value) => void (isDown = value),
    retarget: (port) => void (to = port),
    close() {
      listener.close();
      cut();
    },
  };
}
