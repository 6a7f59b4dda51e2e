// The reconnecting client under real faults: a server process killed with SIGKILL and
// restarted on its port, a link that goes silent without closing (a loopback proxy that stops
// forwarding), a server that accepts TCP and never answers the upgrade, and two hundred
// clients coming back after a restart at once.

import { assert, assertEquals } from "@std/assert";
import { type Hooks, serve } from "@wskit/wskit";
import { connect, type Recorder, restartExample, shut } from "./_support/client.ts";
import { test } from "./_support/harness.ts";
import { type RunningExample, startExample } from "./_support/process.ts";
import { startProxy } from "./_support/proxy.ts";
import { listenTcp, type TcpConn } from "./_support/tcp.ts";
import { waitFor } from "./_support/wait.ts";

const echo: Hooks = { message: (peer, m) => void peer.send(m) };

for (const runtime of ["deno", "bun"] as const) {
  test(
    `the echo example on ${runtime}, SIGKILLed and restarted: messages sent while down arrive once, in order`,
    async () => {
      let echoServer: RunningExample = await startExample(runtime, "echo", ["--port", "0"]);
      const [client, rec] = connect(echoServer.url, { minDelay: 50, maxDelay: 300 });
      try {
        await rec.next("open", 1);
        client.send("before");
        await rec.messagesAtLeast(1);
        echoServer.child.kill("SIGKILL");
        await echoServer.child.exited;
        const down = await rec.next("close", 1);
        assertEquals([down.code, down.wasClean], [1006, false]);
        const queued = [1, 2, 3, 4, 5].map((i) => `while down ${i}`);
        for (const m of queued) assertEquals(client.send(m), "queued");
        echoServer = await restartExample(runtime, "echo", echoServer.port);
        await rec.messagesAtLeast(1 + queued.length, 15_000);
        client.send("after");
        assertEquals(await rec.messagesAtLeast(7), ["before", ...queued, "after"]);
        assertEquals(rec.of("open").length, 2);
        assert(rec.of("reconnect").length >= 1);
      } finally {
        await shut(client, rec);
        echoServer.child.kill("SIGKILL");
        await echoServer.child.exited;
      }
    },
    { timeout: 30_000 },
  );
}

test("a half-open link: the heartbeat notices within interval + timeout and reconnects", async () => {
  const server = await serve(echo, { port: 0 });
  // A loopback proxy that can stop forwarding in both directions without closing anything.
  const proxy = startProxy(server.port);
  const interval = 200;
  const timeout = 200;
  const [client, rec] = connect(`ws://127.0.0.1:${proxy.port}/`, {
    heartbeat: { interval, timeout },
  });
  try {
    await rec.next("open", 1);
    client.send("alive");
    await rec.messagesAtLeast(1);
    const frozenAt = Date.now();
    proxy.freeze();
    const dead = await rec.next("close", 1, 5_000);
    const noticed = dead.at - frozenAt;
    proxy.thaw(); // the network is back: the reconnect goes through the same proxy
    assertEquals([dead.code, dead.reason, dead.wasClean], [1006, "heartbeat timeout", false]);
    console.log(
      `half-open link noticed after ${noticed} ms (interval ${interval} + timeout ${timeout})`,
    );
    assert(noticed >= timeout, `${noticed} ms: not before a ping went unanswered`);
    assert(noticed <= interval + timeout + 300, `${noticed} ms: within interval + timeout`);
    await rec.next("open", 2);
    client.send("through");
    assertEquals(await rec.messagesAtLeast(2), ["alive", "through"]);
  } finally {
    await shut(client, rec);
    proxy.close();
    await server.close();
  }
});

test("a server that accepts TCP but never answers the upgrade: abandoned after connectTimeout, retried", async () => {
  const conns: TcpConn[] = [];
  const closed: boolean[] = [];
  const mute = listenTcp(0, (conn) => {
    const i = conns.push(conn) - 1;
    closed[i] = false;
    conn.onData(() => {});
    conn.closed.then(() => closed[i] = true);
  });
  const started = Date.now();
  const [client, rec] = connect(`ws://127.0.0.1:${mute.port}/`, { connectTimeout: 150 });
  try {
    const first = await rec.next("close", 1);
    assertEquals([first.code, first.reason, first.wasClean], [1006, "connect timeout", false]);
    assert(first.at - started >= 140, `abandoned after ${first.at - started} ms, not before`);
    assert(first.at - started < 1_000, `abandoned after ${first.at - started} ms`);
    assertEquals(rec.of("error")[0]?.message, "Cannot connect: no answer within 150 ms");
    await rec.next("close", 2);
    assertEquals(rec.of("connecting").map((e) => e.attempt).slice(0, 2), [0, 1]);
    // The abandoned attempts do not linger: the client closed their connections.
    await waitFor(() => closed.length >= 2 && closed[0]! && closed[1]!, "closed attempts");
  } finally {
    await shut(client, rec);
    for (const c of conns) c.close();
    mute.close();
  }
});

test("200 clients after a server restart: reconnects spread over the backoff window", async () => {
  const count = 200;
  const backoff = { minDelay: 50, maxDelay: 1000, factor: 2 };
  const arrivals: number[] = [];
  const hooks: Hooks = { upgrade: () => void arrivals.push(Date.now()) };
  let server = await serve(hooks, { port: 0 });
  const port = server.port;
  const all = Array.from({ length: count }, () => connect(server.url, backoff));
  const every = (pred: (rec: Recorder) => boolean) => () => all.every(([, rec]) => pred(rec));
  try {
    await waitFor(every((r) => r.of("open").length === 1), "every client open", 15_000);
    await server.close(); // 1001 to everyone at once: the restart begins
    await waitFor(every((r) => r.of("reconnect").length >= 1), "every first retry scheduled");
    const first = all.map(([, rec]) => rec.of("reconnect")[0]!.delay!);
    // Stay down until every client is in its fourth window ([50, 800] ms) or later.
    await waitFor(every((r) => r.of("reconnect").length >= 4), "four retries each", 10_000);
    arrivals.length = 0;
    const restartedAt = Date.now();
    server = await serve(hooks, { port });
    await waitFor(every((r) => r.of("open").length === 2), "every client back", 10_000);
    const back = arrivals.map((t) => t - restartedAt).sort((a, b) => a - b);

    // First retries: uniform over [minDelay, 2 * minDelay], not one instant.
    const firstMin = Math.min(...first);
    const firstMax = Math.max(...first);
    assert(first.every((d) => d >= 50 && d <= 100), "within the first window");
    assert(firstMax - firstMin >= 35, `first retries spread over ${firstMax - firstMin} of 50 ms`);
    const firstBusiest = busiest(first, 50, 5);
    assert(firstBusiest <= 0.25 * count, `${firstBusiest} of ${count} in one 5 ms bucket`);
    // Back after the restart: spread over the window the clients were waiting in.
    const pct = (p: number) => back[Math.min(back.length - 1, Math.floor(p * back.length))]!;
    const backBusiest = busiest(back, 0, 50);
    console.log(
      `herd of ${count}: first retries ${firstMin}-${firstMax} ms (window 50-100 ms), ` +
        `busiest 5 ms bucket ${firstBusiest}; back after restart p10 ${pct(0.1)} ms, ` +
        `p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, last ${back.at(-1)} ms, ` +
        `busiest 50 ms bucket ${backBusiest}`,
    );
    assertEquals(back.length, count);
    assert(pct(0.9) - pct(0.1) >= 300, `back within ${pct(0.9) - pct(0.1)} ms (p10-p90)`);
    assert(backBusiest <= 0.3 * count, `${backBusiest} of ${count} back in one 50 ms bucket`);
  } finally {
    for (const [client] of all) client.close();
    await server.close();
  }
}, { timeout: 40_000 });

/** The size of the fullest bucket when `values` are put into buckets of `width` from `from`. */
function busiest(values: number[], from: number, width: number): number {
  const buckets = new Map<number, number>();
  for (const v of values) {
    const b = Math.floor((v - from) / width);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  return Math.max(...buckets.values());
}
