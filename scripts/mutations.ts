/**
 * The one-line bugs that `scripts/mutate.ts` puts into a copy of the repository, one at a
 * time. Each names the test files that must catch it. `find` is exact text that must occur
 * exactly once in `file`, so that the list survives code moving around and says "stale"
 * when the code it aimed at has changed; `replace` must stay valid TypeScript (the tests
 * run without type checking).
 *
 * @module
 */

/** A runtime the tests run on. */
export type Runtime = "deno" | "bun";

/** One deliberate bug. */
export interface Mutation {
  /** A short kebab-case name, for `--only`. */
  name: string;
  /** The behaviour it breaks, in a line. */
  behaviour: string;
  /** The file, from the repository root. */
  file: string;
  /** Exact text, found exactly once in the file. */
  find: string;
  /** What it becomes. */
  replace: string;
  /** Test files (from the root) of which at least one must fail. */
  tests: string[];
  /**
   * Where the tests run; `--bun` adds Bun to every mutation.
   *
   * @default {["deno"]}
   */
  runtimes?: Runtime[];
}

/** The mutations, grouped by the wing they hit. */
export const MUTATIONS: Mutation[] = [
  // The server core: limits, fan-out, heartbeat answers, close codes.
  {
    name: "origin-port",
    behaviour: "the default origin check compares host and port, not the host name alone",
    file: "src/handshake.ts",
    find: "return new URL(`${scheme}//${url.host}`).origin;",
    replace: "return new URL(`${scheme}//${url.hostname}`).origin;",
    tests: ["tests/adversarial/origin_test.ts"],
  },
  {
    name: "backpressure-default-close",
    behaviour: "a slow peer past the backpressure limit is closed by default",
    file: "src/limits.ts",
    find: 'closeSlowPeers: (bp.policy ?? "close") === "close",',
    replace: 'closeSlowPeers: (bp.policy ?? "drop") === "close",',
    tests: ["tests/adversarial/backpressure_test.ts"],
  },
  {
    name: "rate-refill-speed",
    behaviour: "the token bucket refills at the configured rate, not ten times faster",
    file: "src/limits.ts",
    find: "this.#messages + elapsed * r.messages)",
    replace: "this.#messages + elapsed * r.messages * 10)",
    tests: ["tests/adversarial/rate_test.ts"],
  },
  {
    name: "payload-limit-plus-one",
    behaviour:
      "a message of maxPayload + 1 bytes closes its peer with 1009 (Deno enforces it in JS)",
    file: "src/endpoint.ts",
    find: "if (size > max) {",
    replace: "if (size > max + 1) {",
    tests: ["tests/adversarial/payload_test.ts"],
  },
  {
    name: "max-connections-bound",
    behaviour: "maxConnections is a maximum: the next upgrade gets 503",
    file: "src/limits.ts",
    find: "if (this.#held >= maxConnections) {",
    replace: "if (this.#held > maxConnections) {",
    tests: ["tests/limits_test.ts"],
  },
  {
    name: "server-heartbeat-answer",
    behaviour: "the server answers the client's heartbeat ping without the message hook",
    file: "src/endpoint.ts",
    find: "if (message === this.#ping) {",
    replace: "if (message === this.#pong) {",
    tests: ["tests/server_test.ts", "tests/client_test.ts"],
  },
  {
    name: "close-hook-sent-code",
    behaviour: "the close hook sees the code the server sent, not 1006, when the runtime lags",
    file: "src/endpoint.ts",
    find: "if (sent && code === 1006) ({ code, reason } = sent);",
    replace: "void sent;",
    tests: ["tests/server_test.ts"],
  },
  {
    name: "publish-leaves-sender-out",
    behaviour: "peer.publish() does not echo to the publisher (the JS fan-out, Deno)",
    file: "src/hub.ts",
    find: "if (peer !== except) peer.send(data);",
    replace: "peer.send(data);",
    tests: ["tests/server_test.ts"],
  },
  {
    name: "bun-binary-uint8array",
    behaviour: "on Bun, binary messages reach hooks as Uint8Array, not Buffer",
    file: "src/adapters/bun.ts",
    find: 'ws.binaryType = "uint8array";',
    replace: 'ws.binaryType = "nodebuffer";',
    tests: ["tests/server_test.ts"],
    runtimes: ["bun"],
  },
  {
    name: "echo-hello-timer",
    behaviour: "examples/echo.ts --hello frees its timer when the client leaves",
    file: "examples/echo.ts",
    find: "clearInterval(peer.data.timer);",
    replace: "void peer;",
    tests: ["tests/examples_test.ts"],
  },

  // The reconnecting client.
  {
    name: "heartbeat-send-deadline",
    behaviour: "send() drops a link whose ping is past its timeout when timers are throttled",
    file: "src/client.ts",
    find: 'the message belongs in the outbox.\n    if (this.#phase === "open" && this.#expired())',
    replace: "the message belongs in the outbox.\n    if (false)",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "heartbeat-any-message-is-life",
    behaviour: "any incoming message answers a pending ping, not only the pong",
    file: "src/client.ts",
    find: "if (this.#pingSentAt !== undefined) {",
    replace: "if (this.#pingSentAt !== undefined && event.data === beat.pong) {",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "client-close-code-0",
    behaviour: "Deno's close code 0 (no close frame) reaches the app as 1006",
    file: "src/client.ts",
    find: "this.#ended(code === 0 ? 1006 : code, reason, wasClean);",
    replace: "this.#ended(code, reason, wasClean);",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "client-outbox-count",
    behaviour: "the outbox holds at most maxQueuedMessages",
    file: "src/client.ts",
    find: "this.#outbox.length + 1 > this.#maxQueuedMessages ||",
    replace: "this.#outbox.length > this.#maxQueuedMessages ||",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "client-outbox-bytes",
    behaviour: "the outbox holds at most maxQueuedBytes",
    file: "src/client.ts",
    find: "this.#queuedBytes + size > this.#maxQueuedBytes",
    replace: "this.#queuedBytes > this.#maxQueuedBytes",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "backoff-reset-after-min-uptime",
    behaviour: "the backoff starts over after a connection stayed up for minUptime",
    file: "src/client.ts",
    find: "Date.now() - openedAt >= this.#minUptime",
    replace: "Date.now() - openedAt > Infinity",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "backoff-factor",
    behaviour: "the jitter window grows as factor ** attempt",
    file: "src/client_options.ts",
    find: "const ceiling = Math.min(maxDelay, minDelay * factor ** attempt);",
    replace: "const ceiling = Math.min(maxDelay, minDelay * factor * attempt);",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "should-reconnect-1008",
    behaviour: "a 1008 policy close is not retried",
    file: "src/client_options.ts",
    find: "[1002, 1003, 1007, 1008, 1009, 1010]",
    replace: "[1002, 1003, 1007, 1009, 1010]",
    tests: ["tests/client_test.ts"],
  },
  {
    name: "should-reconnect-4429",
    behaviour: "4429 (too many requests) means later, not never",
    file: "src/client_options.ts",
    find: "code !== 4408 && code !== 4429",
    replace: "code !== 4408",
    tests: ["tests/client_test.ts"],
  },

  // The session layer.
  {
    name: "session-hello-timeout-option",
    behaviour: "sessions({ helloTimeout }) closes a connection that never says hello",
    file: "src/session_server.ts",
    find: "const helloTimeout = opts.helloTimeout ?? 10_000;",
    replace: "const helloTimeout = 10_000;",
    tests: ["tests/session_test.ts"],
  },
  {
    name: "session-hello-timer-cleared",
    behaviour: "a connection that said hello in time is not closed by the hello timer",
    file: "src/session_server.ts",
    find: "clearTimeout(link.helloTimer);\n      link.waiting = [];",
    replace: "link.waiting = [];",
    tests: ["tests/session_test.ts"],
  },
  {
    name: "session-id-length",
    behaviour: "a session id is 16 random bytes",
    file: "src/_session_session.ts",
    find: "this.sid = saved?.sid ?? randomId(16);",
    replace: "this.sid = saved?.sid ?? randomId(8);",
    tests: ["tests/session_test.ts"],
  },
  {
    name: "session-id-entropy",
    behaviour: "ids come from crypto.getRandomValues, not a narrow Math.random draw",
    file: "src/session_store.ts",
    find: "const raw = crypto.getRandomValues(new Uint8Array(bytes));",
    replace: "const raw = new Uint8Array(bytes).map(() => Math.floor(Math.random() * 16));",
    tests: ["tests/session_test.ts"],
  },
  {
    name: "session-duplicate-drop",
    behaviour: "a resent frame the server has handled is dropped, not refused or handled again",
    file: "src/_session_dispatch.ts",
    find: "if (q <= session.lastSeq) {",
    replace: "if (q < session.lastSeq) {",
    tests: ["tests/session_resume_test.ts"],
  },
  {
    name: "session-request-own-property",
    behaviour: "a request named after an Object.prototype member is unknown_request",
    file: "src/_session_dispatch.ts",
    find: "const handler = this.#requests.get(frame.e);",
    replace:
      "const handler = (this.#core.options.requests as Record<string, Handler> | undefined)?.[frame.e];",
    tests: ["tests/session_test.ts"],
  },
  {
    name: "session-resume-identity",
    behaviour: "a session id presented by another identity resumes nothing",
    file: "src/_session_hello.ts",
    find: "claimed !== undefined && !claimed.ended && claimed.identity === identity;",
    replace: "claimed !== undefined && !claimed.ended;",
    tests: ["tests/session_resume_test.ts"],
  },
  {
    name: "session-client-gap-resync",
    behaviour: "a gap the client cannot fill is reported as a resync event",
    file: "src/session_client.ts",
    find: 'lost: () => this.dispatchEvent(new ResyncEvent("gap")),',
    replace: "lost: () => {},",
    tests: ["tests/adversarial/session_order_test.ts"],
  },
  {
    name: "memory-store-since-boundary",
    behaviour: "since() replays only when the entry right after the position is still kept",
    file: "src/session_store.ts",
    find: "if (!first || first.offset > after + 1) return null;",
    replace: "if (!first || first.offset > after + 2) return null;",
    tests: ["tests/session_resume_test.ts"],
  },
  {
    name: "memory-store-max-age",
    behaviour: "the in-memory log drops entries older than maxAge",
    file: "src/session_store.ts",
    find: "log.bytes <= w.maxBytes && entry.at >= oldest) break;",
    replace: "log.bytes <= w.maxBytes) break;",
    tests: ["tests/session_resume_test.ts"],
  },

  // Redis and the relays.
  {
    name: "redis-store-max-age",
    behaviour: "RedisStore does not replay entries older than maxAge",
    file: "src/relay/redis.ts",
    find: "const oldest = Date.now() - this.#window.maxAge;",
    replace: "const oldest = -Infinity;",
    tests: ["tests/redis_test.ts"],
  },
  {
    name: "redis-store-since-boundary",
    behaviour: "RedisStore replays only when the entry right after the position is still kept",
    file: "src/relay/redis.ts",
    find: "if (!first || text(first[0]) !== `0-${after + 1}`) return null;",
    replace: "if (!first) return null;",
    tests: ["tests/redis_test.ts"],
  },
  {
    name: "relay-settle-delay",
    behaviour: "buffered publishes wait settle ms after the link is back",
    file: "src/relay/redis.ts",
    find: "}, this.#settle);",
    replace: "}, 0);",
    tests: ["tests/redis_test.ts"],
  },
  {
    name: "relay-own-origin",
    behaviour: "an instance does not deliver its own publishes twice",
    file: "src/relay/redis.ts",
    find: "if (!m || m.origin === this.#origin) return;",
    replace: "if (!m) return;",
    tests: ["tests/redis_test.ts"],
  },
  {
    name: "relay-outage-buffer-bound",
    behaviour: "the outage buffer keeps at most maxBuffered publishes",
    file: "src/relay.ts",
    find: "if (this.#items.length >= this.#max ||",
    replace: "if (this.#items.length > this.#max ||",
    tests: ["tests/redis_test.ts"],
  },
  // The session layer against hostile clients and failing stores (issue 11).
  {
    name: "session-event-own-property",
    behaviour: "an event named after an Object.prototype member finds no handler",
    file: "src/_session_dispatch.ts",
    find: "const handler = this.#events.get(frame.e);",
    replace:
      "const handler = (this.#core.options.events as Record<string, Handler> | undefined)?.[frame.e];",
    tests: ["tests/adversarial/session_input_test.ts"],
  },
  {
    name: "session-result-unencodable",
    behaviour: "a result JSON cannot carry answers Internal error instead of rejecting",
    file: "src/_session_dispatch.ts",
    find: "      } catch (error) {\n        this.#fail(session, id, error);\n      }\n    };",
    replace: "      } finally { /* nothing */ }\n    };",
    tests: ["tests/adversarial/session_input_test.ts"],
  },
  {
    name: "session-quote-prefix",
    behaviour: "an error answer quotes only a short prefix of a client's name",
    file: "src/_session_limits.ts",
    find: "return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);",
    replace: "return JSON.stringify(name);",
    tests: ["tests/adversarial/session_input_test.ts"],
  },
  {
    name: "session-ack-after-durable",
    behaviour: "a frame is confirmed only once its store writes have succeeded",
    file: "src/_session_dispatch.ts",
    find: "if (!ctx.pending) return core.acks.complete(session, ctx.q, ctx.generation);",
    replace: "return core.acks.complete(session, ctx.q, ctx.generation);",
    tests: ["tests/adversarial/outage_test.ts"],
  },
  {
    name: "session-epoch-announced",
    behaviour: "a store that lost its history is announced to clients before its new frames",
    file: "src/_session_core.ts",
    find: "if (first && !relayed) return;",
    replace: "if (!relayed) return;",
    tests: ["tests/adversarial/outage_test.ts"],
  },
  {
    name: "session-client-hold-order",
    behaviour: "the client holds a frame ahead of its turn instead of skipping to it",
    file: "src/_session_streams.ts",
    find: "if (offset === s.pos[1] + 1) {",
    replace: "if (offset >= s.pos[1] + 1) {",
    tests: ["tests/adversarial/session_order_test.ts"],
  },
  {
    name: "session-room-name-bytes",
    behaviour: "a room name is bounded in UTF-8 bytes, not characters",
    file: "src/_session_limits.ts",
    find: "if (room.length > max || (room.length * 3 > max && utf8Length(room) > max)) {",
    replace: "if (room.length > max) {",
    tests: ["tests/adversarial/session_bounds_test.ts"],
  },
  {
    name: "session-rooms-per-session",
    behaviour: "a session is in at most maxRoomsPerSession rooms",
    file: "src/_session_limits.ts",
    find: "if (session.rooms.size >= limits.maxRoomsPerSession) {",
    replace: "if (session.rooms.size > limits.maxRoomsPerSession) {",
    tests: ["tests/adversarial/session_bounds_test.ts"],
  },
  {
    name: "session-max-sessions",
    behaviour: "live sessions are bounded by maxSessions",
    file: "src/_session_limits.ts",
    find: "if (live >= this.#limits.maxSessions) {",
    replace: "if (live > this.#limits.maxSessions) {",
    tests: ["tests/adversarial/session_bounds_test.ts"],
  },
  {
    name: "session-creation-rate",
    behaviour: "new sessions are bounded per second",
    file: "src/_session_limits.ts",
    find: "(now - this.#filled) / 1000 * rate",
    replace: "(now - this.#filled) * rate",
    tests: ["tests/adversarial/session_bounds_test.ts"],
  },
  {
    name: "session-unconfirmed-bound",
    behaviour: "frames held unconfirmed are bounded",
    file: "src/_session_dispatch.ts",
    find: "session.sizes.length >= limits.maxUnconfirmed ||",
    replace: "session.sizes.length >= limits.maxUnconfirmed * 1000 ||",
    tests: ["tests/adversarial/session_bounds_test.ts"],
  },
  {
    name: "session-waiting-bound",
    behaviour: "frames before the welcome are bounded",
    file: "src/session_server.ts",
    find: "if (link.waiting.length >= MAX_WAITING) {",
    replace: "if (link.waiting.length >= MAX_WAITING * 1000) {",
    tests: ["tests/adversarial/session_bounds_test.ts"],
  },
  {
    name: "memory-store-total-bytes",
    behaviour: "the memory store's bytes across streams are bounded",
    file: "src/session_store.ts",
    find: "while (this.#bytes > this.#window.maxTotalBytes && this.#oldest) {",
    replace: "while (this.#bytes > this.#window.maxTotalBytes * 1000 && this.#oldest) {",
    tests: ["tests/adversarial/session_bounds_test.ts"],
  },
];
