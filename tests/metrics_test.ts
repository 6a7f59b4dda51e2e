// Metrics in Prometheus' text format (src/server/metrics.ts) on both runtimes: real servers
// and clients over loopback, counters that move by exactly what went through, never back,
// and output that a strict reader of the format (./_support/prometheus.ts) accepts.

import { assert, assertEquals, assertThrows } from "@std/assert";
import { type Hooks, metrics, metricsText, serve, type Server } from "@wskit/wskit";
import { BroadcastChannelRelay } from "@wskit/wskit/broadcast-channel";
import { MemoryStore, sessions } from "@wskit/wskit/session";
import { escapeLabelValue } from "../src/server/metrics.ts";
import { runtime, test } from "./_support/harness.ts";
import { startExample } from "./_support/process.ts";
import { counters, type Family, parsePrometheus, valueOf } from "./_support/prometheus.ts";
import { withServer } from "./_support/serve.ts";
import { rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { deferred, waitFor, within } from "./_support/wait.ts";
import { helloSession, TestClient } from "./_support/ws.ts";

/** A scrape of `server`, parsed strictly. */
function scrape(server: Server, options?: Parameters<typeof metricsText>[1]) {
  return parsePrometheus(metricsText(server, options));
}

/** Every counter of `before` is in `after`, and not lower. */
function assertMonotonic(before: Map<string, Family>, after: Map<string, Family>): void {
  const later = counters(after);
  for (const [series, value] of counters(before)) {
    assert(later.has(series), `${series} is still reported`);
    assert(later.get(series)! >= value, `${series} went from ${value} to ${later.get(series)}`);
  }
}

/** Echoes, publishes "pub" to the room, closes with 3001 on "bye". */
const hooks: Hooks = {
  open: (peer) => peer.subscribe("room"),
  message(peer, message) {
    if (message === "pub") peer.publish("room", "7 chars");
    else if (message === "bye") peer.close(3001, "asked");
    else peer.send(message);
  },
};

test("metrics: connections, messages, bytes and closes by code move by what went through", async () => {
  await withServer(hooks, async (server) => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => TestClient.connect(server.url)));
    await waitFor(() => server.stats().subscribers.room === 3, "three subscribers");
    const before = scrape(server);
    assertEquals(valueOf(before, "wskit_connections"), 3);
    assertEquals(valueOf(before, "wskit_connections_opened_total"), 3);
    assertEquals(valueOf(before, "wskit_topics"), 1);
    assertEquals(valueOf(before, "wskit_subscriptions"), 3);
    const received = valueOf(before, "wskit_messages_received_total");
    const sent = valueOf(before, "wskit_messages_sent_total");
    assertEquals([received, sent], [0, 0]);

    for (let i = 0; i < 4; i++) a!.send("0123456789"); // 4 messages, 40 bytes, echoed
    a!.send(new Uint8Array(6)); // 6 bytes, echoed
    await waitFor(() => a!.messages.length === 5, "the echoes");
    b!.send("pub"); // 3 bytes; 7 bytes to a and c
    await Promise.all([a!.until((m) => m === "7 chars"), c!.next()]);
    c!.send("bye"); // 3 bytes; the server closes with 3001
    await a!.close(1000);
    await b!.close(4001);
    await within(c!.closed, "the server's close of c");
    await waitFor(() => server.stats().peers === 0, "every close seen by the server");

    const after = scrape(server);
    assertMonotonic(before, after);
    assertEquals(valueOf(after, "wskit_connections"), 0);
    assertEquals(valueOf(after, "wskit_connections_opened_total"), 3);
    assertEquals(valueOf(after, "wskit_messages_received_total"), 4 + 1 + 1 + 1);
    assertEquals(valueOf(after, "wskit_received_bytes_total"), 40 + 6 + 3 + 3);
    assertEquals(valueOf(after, "wskit_messages_sent_total"), 5 + 2, "the echoes, the publish");
    assertEquals(valueOf(after, "wskit_sent_bytes_total"), 46 + 14);
    const closed = after.get("wskit_connections_closed_total")!.samples;
    assertEquals(
      Object.fromEntries(closed.map((s) => [s.labels.code, s.value])),
      { "1000": 1, "3xxx": 1, "4xxx": 1 },
    );
    assertEquals(valueOf(after, "wskit_topics"), 0);
    assertEquals(valueOf(after, "wskit_queued_bytes"), 0);
  });
});

test("metrics: refused upgrades are counted by reason: origin, malformed, hook, error, capacity, shutdown", async () => {
  const entered = deferred<void>();
  const gate = deferred<void>();
  const server = await serve({
    async upgrade(request) {
      const query = new URL(request.url).search;
      if (query === "?deny") return new Response("No", { status: 401 });
      if (query === "?boom") throw new Error("the hook failed");
      if (query === "?wait") {
        entered.resolve();
        await gate.promise;
      }
    },
    error: () => {},
  }, { port: 0, maxConnections: 1 });
  let closing: Promise<void> | undefined;
  try {
    const refused = (reason: string) =>
      valueOf(scrape(server), "wskit_upgrades_refused_total", { reason });
    const status = async (path: string, headers: Record<string, string> = {}) =>
      (await rawHttp(server.port, upgradeRequest(path, headers))).status;

    assertEquals(await status("/", { origin: "https://elsewhere.example" }), 403);
    assertEquals(await status("/", { "sec-websocket-key": "" }), 400);
    assertEquals(await status("/?deny"), 401);
    assertEquals(await status("/?deny"), 401);
    assertEquals(await status("/?boom"), 500);
    const holder = await TestClient.connect(server.url);
    assertEquals(await status("/"), 503);
    assertEquals(
      ["origin", "malformed", "hook", "error", "capacity", "address"].map(refused),
      [1, 1, 2, 1, 1, 0],
    );
    await holder.close();
    await waitFor(() => server.stats().peers === 0, "the place given back");

    const late = status("/?wait");
    await within(entered.promise, "the upgrade hook");
    closing = server.close();
    gate.resolve();
    // The listener stops once no peer is left, maybe before the 503 is written (Bun).
    assert([503, 0].includes(await late), "refused, or cut off by the listener's stop");
    await closing;
    assertEquals(refused("shutdown"), 1);
  } finally {
    gate.resolve();
    await (closing ?? server.close());
  }
});

test("metrics: a publish to a topic counts one message per subscriber but the publisher", async () => {
  await withServer(hooks, async (server) => {
    const clients = await Promise.all([1, 2, 3, 4].map(() => TestClient.connect(server.url)));
    await waitFor(() => server.stats().subscribers.room === 4, "four subscribers");
    clients[0]!.send("pub");
    await Promise.all(clients.slice(1).map((c) => c.next()));
    server.publish("room", "to all"); // 6 bytes to each of 4
    await Promise.all(clients.map((c) => c.until((m) => m === "to all")));
    const m = scrape(server);
    assertEquals(valueOf(m, "wskit_messages_sent_total"), 3 + 4);
    assertEquals(valueOf(m, "wskit_sent_bytes_total"), 3 * 7 + 4 * 6);
    await Promise.all(clients.map((c) => c.close()));
  });
});

test("metrics: topics named like Object.prototype's members count as any other topic", async () => {
  // Clients may choose topic names: "__proto__" must stay a key of stats().subscribers.
  const names = ["__proto__", "constructor", "hasOwnProperty"];
  const subscriber: Hooks = { open: (peer) => names.forEach((name) => peer.subscribe(name)) };
  await withServer(subscriber, async (server) => {
    const client = await TestClient.connect(server.url);
    await waitFor(() => server.stats().topics === 3, "three topics");
    const subscribers = server.stats().subscribers;
    assertEquals(names.map((name) => Object.hasOwn(subscribers, name)), [true, true, true]);
    assertEquals(names.map((name) => subscribers[name]), [1, 1, 1]);
    const m = scrape(server);
    assertEquals([valueOf(m, "wskit_topics"), valueOf(m, "wskit_subscriptions")], [3, 3]);
    await client.close();
  });
});

test("metrics: a relay's health and counters are reported", async () => {
  const name = `metrics-${crypto.randomUUID()}`;
  const a = await serve(hooks, { port: 0, relay: new BroadcastChannelRelay(name) });
  const b = await serve(hooks, { port: 0, relay: new BroadcastChannelRelay(name) });
  try {
    const onB = await TestClient.connect(b.url);
    await waitFor(() => b.stats().subscribers.room === 1, "the subscriber on b");
    a.publish("room", "across");
    assertEquals(await onB.next(), "across");
    const ma = scrape(a);
    const mb = scrape(b);
    assertEquals(valueOf(ma, "wskit_relay_connected"), 1);
    assertEquals(valueOf(ma, "wskit_relay_published_total"), 1);
    assertEquals(valueOf(mb, "wskit_relay_received_total"), 1);
    for (const name of ["buffered", "dropped_total", "reconnects_total"]) {
      assertEquals(valueOf(ma, `wskit_relay_${name}`), 0, name);
    }
    assertEquals(valueOf(mb, "wskit_messages_sent_total"), 1, "the relayed delivery");
    await onB.close();
  } finally {
    await a.close();
    await b.close();
  }
  const plain = await serve({}, { port: 0 });
  try {
    assert(!scrape(plain).has("wskit_relay_connected"), "no relay, no relay metrics");
  } finally {
    await plain.close();
  }
});

test("metrics: sessions, the replay logs' bytes and presence are reported when given", async () => {
  const store = new MemoryStore();
  const app = sessions({ store, connect: (session) => session.join("lobby") });
  await withServer(app.hooks, async (server) => {
    const none = scrape(server);
    for (const name of ["wskit_sessions", "wskit_replay_log_bytes", "wskit_presence_members"]) {
      assert(!none.has(name), `${name} is left out unless asked for`);
    }
    const [raw] = await helloSession(server.url);
    await waitFor(() => [...app.sessions.values()][0]?.rooms.has("lobby") === true, "the join");
    app.publish("lobby", "said", { text: "hello" });
    await raw.until((m) => typeof m === "string" && m.includes("hello"));
    const m = scrape(server, { sessions: app, store, presence: () => 5 });
    assertEquals(valueOf(m, "wskit_sessions"), 1);
    assertEquals(valueOf(m, "wskit_sessions_connected"), 1);
    assertEquals(valueOf(m, "wskit_session_resumes_total"), 0);
    assertEquals(valueOf(m, "wskit_presence_members"), 5);
    const bytes = valueOf(m, "wskit_replay_log_bytes");
    assert(bytes > 0, "the published frame is in a log");
    assertEquals(bytes, store.bytes);
    await raw.close();
  });
});

test("metrics(): mounted on /metrics of serve(), it answers a scrape over HTTP", async () => {
  const server: Server = await serve(hooks, {
    port: 0,
    fetch: (request) =>
      new URL(request.url).pathname === "/metrics"
        ? metrics(server)
        : new Response("Not found", { status: 404 }),
  });
  try {
    const client = await TestClient.connect(server.url);
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assertEquals(response.status, 200);
    assertEquals(
      response.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    const m = parsePrometheus(await response.text());
    assertEquals(valueOf(m, "wskit_connections"), 1);
    assertEquals(valueOf(m, "wskit_upgrades_refused_total", { reason: "malformed" }), 0);
    const other = await fetch(`http://127.0.0.1:${server.port}/other`);
    assertEquals(other.status, 404);
    await other.body?.cancel();
    await client.close();
  } finally {
    await server.close();
  }
});

test("metrics: the strict reader refuses what Prometheus refuses, and label values round-trip", () => {
  const head = "# HELP x_total X.\n# TYPE x_total counter\n";
  const bad = [
    "# HELP x_total X.\n# TYPE x_total counter\nx_total 1", // no final line feed
    "# TYPE x_total counter\n# HELP x_total X.\nx_total 1\n", // TYPE before HELP
    "x_total 1\n", // no HELP and TYPE
    "# HELP x X.\n# TYPE x counter\nx 1\n", // a counter without _total
    `${head}x_total -1\n`, // a counter going negative
    `${head}x_total 1\nx_total 2\n`, // the same series twice
    `${head}x_total{a="1"} 1\n# HELP y Y.\n# TYPE y gauge\ny 1\nx_total{a="2"} 1\n`, // apart
    `${head}x_total{a="\\t"} 1\n`, // an escape the format does not have
    `${head}x_total{a="1} 1\n`, // an unclosed label value
    `${head}x_total{__a="1"} 1\n`, // a reserved label name
    `${head}x_total{a="1",a="2"} 1\n`, // a label twice
    `${head}x_total one\n`, // not a value
    `${head}x_total 1 2 3\n`, // trailing text
    "# HELP 1x X.\n# TYPE 1x gauge\n", // a bad metric name
    "# HELP x X.\n# TYPE x gauges\n", // an unknown type
  ];
  for (const text of bad) assertThrows(() => parsePrometheus(text), Error, undefined, text);
  const value = 'a "quoted" back\\slash\nnew line';
  const m = parsePrometheus(
    `${head}x_total{v="${escapeLabelValue(value)}"} +Inf\n# HELP g G.\n# TYPE g gauge\ng NaN\n`,
  );
  assertEquals(m.get("x_total")!.samples[0]!.labels.v, value);
  assertEquals(valueOf(m, "x_total", { v: value }), Infinity);
  assert(Number.isNaN(valueOf(m, "g")));
  // A HELP with an escaped backslash before other text is valid, and read back unescaped.
  const help = parsePrometheus("# HELP h C:\\\\dir\\nnext.\n# TYPE h gauge\nh 1\n");
  assertEquals(help.get("h")!.help, "C:\\dir\nnext.");
});

test(`chat app: --metrics serves /metrics on the page's port (${runtime})`, async () => {
  const chat = await startExample(runtime, "chat_app/main", ["--port", "0", "--metrics"]);
  try {
    const base = `http://127.0.0.1:${chat.port}`;
    const client = await TestClient.connect(chat.url);
    const response = await fetch(`${base}/metrics`);
    assertEquals(response.status, 200);
    const m = parsePrometheus(await response.text());
    assertEquals(valueOf(m, "wskit_connections"), 1);
    assertEquals(valueOf(m, "wskit_sessions"), 0, "a plain client has no session");
    assert(m.has("wskit_replay_log_bytes"));
    const page = await fetch(`${base}/`);
    assertEquals(page.status, 200, "the page is still served");
    await page.body?.cancel();
    await client.close();
  } finally {
    await chat.stop();
  }
}, { timeout: 60_000 });
