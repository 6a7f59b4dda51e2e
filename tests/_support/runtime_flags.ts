/**
 * What differs between Deno and Bun, as flags of the one suite: a test reads a flag here
 * instead of asking which runtime runs it, so that every difference is named once, with what
 * it is and where it was measured (Deno 2.9.5, Bun 1.4.5).
 */

import { runtime } from "./harness.ts";

/** The runtime differences the tests allow for, on `of` (a server's, say). */
export function flagsOf(of: "deno" | "bun") {
  const bun = of === "bun";
  return {
    /**
     * On a protocol error (invalid UTF-8, a reserved opcode or bit, an oversized ping) Bun sends
     * a close frame with 1002/1007 before ending the connection; Deno ends the TCP connection
     * without one, so its client sees 1006. The close hook sees the code on both
     * (tests/bad_input_test.ts).
     */
    closeFrameOnProtocolError: bun,

    /**
     * Whether a client that goes on sending after the server's close frame still reads it. Bun
     * ends the connection after the frame; Deno drops it as soon as a data frame follows its
     * close frame, and the reset that its kernel then sends (unread bytes) can discard the
     * frame before the client reads it: on a busy machine most of the time
     * (tests/adversarial/rate_test.ts).
     */
    closeFrameToFloodingClient: bun,

    /**
     * The status an upgrade with 200 KB of headers gets, from the runtime's HTTP layer before
     * wskit sees the request: Deno 400, Bun 431 (tests/bad_input_test.ts).
     */
    oversizedHeadersStatus: bun ? 431 : 400,

    /**
     * The shortest `idleTimeout` the runtime keeps as set, in milliseconds: Bun counts it in
     * steps of 4 s with a minimum of 8 s; Deno takes milliseconds (tests/limits_test.ts).
     */
    idleTimeoutMinMs: bun ? 8_000 : 0,

    /**
     * Whether the backpressure counters (`closed.backpressure`, `dropped`, the 1013 close code)
     * are exact. Deno checks the limit in JavaScript before every send; Bun enforces it natively
     * and drops over-limit messages or the connection (1006) without saying which publish missed
     * which peer (tests/limits_test.ts).
     */
    exactBackpressureCounters: !bun,

    /**
     * Whether an upgrade whose client resets the connection before reading the 101 stays
     * unsettled: Deno neither opens nor closes that socket, so only `openTimeout` frees its place,
     * and the runtime's own upgrade ops never complete (Deno's sanitizers must be off for such a
     * test). Bun never opens it (tests/adversarial/capacity_test.ts).
     */
    resetUpgradeLingers: !bun,

    /**
     * Whether a connection the server has closed (its close frame sent) holds its place until
     * the client goes: Deno keeps it (no JavaScript can drop it); Bun ends it after its close
     * frame (tests/adversarial/capacity_test.ts).
     */
    closedConnectionLingers: !bun,

    /**
     * Whether a client that is still sending when the server closes its connection always gets
     * the server's close code. Bun delivers it; Deno resets a connection whose data frame arrives
     * after its close frame (`_eventLoop` in ext/websocket/01_websocket.js), and the client's
     * kernel drops the close frame it had not yet handed over, so such a client may see 1006 (a
     * Deno client reports 0) instead of, say, 1001 at shutdown or 1008 for a flood. A quiet
     * client gets the code on both (tests/shutdown_test.ts).
     */
    closeCodeReachesSendingClient: bun,

    /**
     * Whether a server process that closed while clients were sending ends by itself: on Deno
     * the sockets it reset leave Deno's idle timers running, so the example's watchdog has to end
     * it (tests/shutdown_test.ts).
     */
    endsByItselfAfterResets: bun,

    /**
     * RSS (MiB) a session server may keep once hostile clients that sent 120 MiB of messages are
     * gone: freed native memory the allocator keeps. A bare Deno echo server keeps 30 MiB after
     * 60 MiB of such messages (tests/adversarial/session_memory_test.ts).
     */
    rssKeptAfterHugeMessagesMiB: bun ? 48 : 128,

    /**
     * RSS (MiB) a session server may keep after 20 000 generated hostile frames: a bare
     * `Deno.upgradeWebSocket` echo server under the same traffic keeps 30-50 MiB, Bun 20-30 MiB
     * (tests/adversarial/session_fuzz_test.ts).
     */
    rssKeptAfterFuzzMiB: bun ? 48 : 96,

    /**
     * Whether the server can negotiate permessage-deflate (the `compression` option): Bun can;
     * Deno's WebSocket server has no compression, and the option is refused there
     * (tests/compression_test.ts).
     */
    compression: bun,

    /**
     * Whether the runtime's WebSocket client opens a connection whose server chose none of the
     * subprotocols it offered: Deno's does (with `protocol` ""); Bun's fails it ("Missing client
     * protocol" in its `error` event, then 1006), as browsers do (tests/client_failure_test.ts).
     */
    clientOpensWithoutOfferedProtocol: !bun,
  };
}

/** The runtime differences the tests allow for, on the runtime running the suite. */
export const flags: ReturnType<typeof flagsOf> = flagsOf(runtime);
