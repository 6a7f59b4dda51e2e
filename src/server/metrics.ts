/**
 * An endpoint's counters for Prometheus: its `stats()`, and what the application adds (the
 * session layer, the replay logs' bytes, presence), in the text exposition format 0.0.4.
 * Every series has a fixed name and fixed label values: nothing a client chooses (a topic, a
 * close code past the standard ones) becomes a label, so a scrape stays the same size
 * whatever clients do. docs/operations.md lists the metrics.
 *
 * @module
 */

import type { ServerStats } from "./stats.ts";

/** The content type of Prometheus' text exposition format. */
const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What the metrics can report besides the endpoint's own counters. */
export interface MetricsOptions {
  /**
   * The session layer (what `sessions()` returns), for the sessions and what they did.
   * Left out, the `wskit_session*` metrics are.
   */
  sessions?: {
    stats():
      & Record<
        | "sessions"
        | "connected"
        | "resumed"
        | "recovered"
        | "replayed"
        | "duplicates"
        | "fills"
        | "evicted"
        | "refused"
        | "storeFailures",
        number
      >
      & { presence?: number };
  };
  /**
   * A session store that counts the bytes its replay logs hold (`MemoryStore` does; Redis
   * holds `RedisStore`'s, so watch Redis for those). Left out, `wskit_replay_log_bytes` is.
   */
  store?: { readonly bytes: number };
  /**
   * The number of presence members right now, as the application counts them. Left out,
   * `wskit_presence_members` reports the session layer's count if it has one, or is left out.
   */
  presence?: () => number;
}

/** One series: its labels and its value. */
type Sample = [labels: Record<string, string>, value: number];

/** The metrics in the making: each family written whole, HELP and TYPE first. */
class Exposition {
  readonly lines: string[] = [];

  add(name: string, type: "counter" | "gauge", help: string, samples: number | Sample[]): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.lines.push(`# TYPE ${name} ${type}`);
    if (typeof samples === "number") this.lines.push(`${name} ${formatValue(samples)}`);
    else for (const [labels, value] of samples) this.lines.push(series(name, labels, value));
  }

  /** A counter with one label: a series for each key of `values`, in snake case. */
  labelled(name: string, help: string, label: string, values: Record<string, number>): void {
    const samples = Object.entries(values).map(([key, value]): Sample => [
      { [label]: SNAKE.get(key) ?? key },
      value,
    ]);
    this.add(name, "counter", help, samples);
  }
}

/** `name{label="value",...} value`. */
function series(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`;
}

/**
 * A label value as the text format writes it: backslash, double quote and line feed escaped.
 *
 * @param value The label value.
 * @returns The escaped value, without the quotes around it.
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A sample value as the text format writes it (`+Inf`, `-Inf`, `NaN` included). */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** The label values of the keys of `stats()` that are not one word. */
const SNAKE = new Map([
  ["rateLimit", "rate_limit"],
  ["tooBig", "too_big"],
  ["openTimeout", "open_timeout"],
]);

/**
 * The endpoint's metrics, and those of `options`, in Prometheus' text exposition format.
 *
 * @example Print a scrape
 * ```ts
 * import { metricsText, serve } from "@wskit/wskit";
 *
 * const server = await serve({}, { port: 0 });
 * console.log(metricsText(server));
 * await server.close();
 * ```
 *
 * @param endpoint A server from `serve()`, or a handler from `createHandler()`.
 * @param options Sessions, a store and presence to report as well.
 * @returns The exposition, one line per HELP, TYPE and series, ending in a line feed.
 */
export function metricsText(
  endpoint: { stats(): ServerStats },
  options: MetricsOptions = {},
): string {
  const s = endpoint.stats();
  const m = new Exposition();
  m.add("wskit_connections", "gauge", "Open connections.", s.peers);
  m.add("wskit_connections_pending", "gauge", "Accepted upgrades not open yet.", s.pending);
  m.add(
    "wskit_connections_closing",
    "gauge",
    "Connections closed by a limit that the runtime still holds.",
    s.closing,
  );
  m.add("wskit_connections_opened_total", "counter", "Connections that opened.", s.opened);
  m.labelled(
    "wskit_connections_closed_total",
    "Connections that opened and closed, by close code (3xxx, 4xxx: ranges; other).",
    "code",
    s.closeCodes,
  );
  const { rateLimit: messagesRefused, ...upgradesRefused } = s.refused;
  m.labelled(
    "wskit_upgrades_refused_total",
    "Upgrades refused, by reason.",
    "reason",
    upgradesRefused,
  );
  m.labelled(
    "wskit_forced_closes_total",
    "Connections closed by a limit or a protocol error, by cause.",
    "cause",
    s.closed,
  );
  m.add("wskit_messages_received_total", "counter", "Messages received.", s.received.messages);
  m.add(
    "wskit_received_bytes_total",
    "counter",
    "Bytes of messages received (text: UTF-16 code units, bytes when ASCII).",
    s.received.bytes,
  );
  m.add("wskit_messages_sent_total", "counter", "Messages handed to the runtime.", s.sent.messages);
  m.add(
    "wskit_sent_bytes_total",
    "counter",
    "Bytes of messages handed to the runtime (text: UTF-16 code units, bytes when ASCII).",
    s.sent.bytes,
  );
  m.add(
    "wskit_messages_dropped_total",
    "counter",
    "Messages not sent to a peer over its backpressure limit.",
    s.dropped,
  );
  m.add(
    "wskit_messages_rate_limited_total",
    "counter",
    "Messages refused by the rate limit (policy drop).",
    messagesRefused,
  );
  m.add("wskit_queued_bytes", "gauge", "Bytes queued for sending, over all peers.", s.queuedBytes);
  m.add("wskit_slow_peers", "gauge", "Peers over the backpressure limit.", s.slowPeers);
  m.add("wskit_topics", "gauge", "Topics with a local subscriber.", s.topics);
  const subscriptions = Object.values(s.subscribers).reduce((a, b) => a + b, 0);
  m.add("wskit_subscriptions", "gauge", "Local subscriptions over all topics.", subscriptions);
  if (s.relay) relayMetrics(m, s.relay);
  const sessions = options.sessions?.stats();
  if (sessions) {
    for (const [key, name, type, help] of SESSION_METRICS) m.add(name, type, help, sessions[key]);
  }
  if (options.store) {
    const bytes = options.store.bytes;
    m.add("wskit_replay_log_bytes", "gauge", "Bytes the replay logs hold.", bytes);
  }
  const presence = options.presence ? options.presence() : sessions?.presence;
  if (presence !== undefined) {
    m.add("wskit_presence_members", "gauge", "Presence members.", presence);
  }
  return m.lines.join("\n") + "\n";
}

function relayMetrics(m: Exposition, r: NonNullable<ServerStats["relay"]>): void {
  m.add("wskit_relay_connected", "gauge", "1 when the relay reaches the others.", +r.connected);
  m.add("wskit_relay_published_total", "counter", "Publishes sent to the others.", r.published);
  m.add("wskit_relay_received_total", "counter", "Publishes from the others.", r.received);
  m.add("wskit_relay_buffered", "gauge", "Publishes waiting for the link.", r.buffered);
  m.add("wskit_relay_dropped_total", "counter", "Publishes lost in an outage.", r.dropped);
  m.add("wskit_relay_reconnects_total", "counter", "Links re-established.", r.reconnects);
}

/** What `sessions().stats()` reports that the metrics read. */
type SessionCounts = ReturnType<NonNullable<MetricsOptions["sessions"]>["stats"]>;

/** The session layer's counts, by their name in its `stats()`. */
const SESSION_METRICS: readonly [
  key: Exclude<keyof SessionCounts, "presence">,
  name: string,
  type: "counter" | "gauge",
  help: string,
][] = [
  ["sessions", "wskit_sessions", "gauge", "Live sessions."],
  ["connected", "wskit_sessions_connected", "gauge", "Sessions with a connection."],
  ["resumed", "wskit_session_resumes_total", "counter", "Reconnects that found their session."],
  ["recovered", "wskit_session_recoveries_total", "counter", "Resumes with nothing missed."],
  ["replayed", "wskit_session_replayed_total", "counter", "Frames replayed on resume."],
  ["duplicates", "wskit_session_duplicates_total", "counter", "Client frames resent, dropped."],
  ["fills", "wskit_session_fills_total", "counter", "Gaps filled from the store."],
  ["evicted", "wskit_sessions_evicted_total", "counter", "Sessions ended for new ones."],
  ["refused", "wskit_sessions_refused_total", "counter", "Connections refused a session."],
  ["storeFailures", "wskit_session_store_failures_total", "counter", "Store writes that failed."],
];

/**
 * The endpoint's metrics, and those of `options`, as a response to a Prometheus scrape:
 * mount it on a path of your choosing (`/metrics`), out of the public's reach, since what it
 * tells (connections, refusals) is for operators.
 *
 * @example Serve /metrics beside the WebSocket endpoint
 * ```ts
 * import { metrics, serve } from "@wskit/wskit";
 *
 * const server = await serve({
 *   message: (peer, message) => void peer.send(message),
 * }, {
 *   port: 8000,
 *   fetch: (request): Response =>
 *     new URL(request.url).pathname === "/metrics"
 *       ? metrics(server)
 *       : new Response("Not found", { status: 404 }),
 * });
 * ```
 *
 * @param endpoint A server from `serve()`, or a handler from `createHandler()`.
 * @param options Sessions, a store and presence to report as well.
 * @returns A `200` with the exposition as `text/plain; version=0.0.4`, never cached.
 */
export function metrics(
  endpoint: { stats(): ServerStats },
  options: MetricsOptions = {},
): Response {
  return new Response(metricsText(endpoint, options), {
    headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" },
  });
}
