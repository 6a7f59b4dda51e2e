// Bad input after and before the handshake: the offender's connection closes (with the code
// RFC 6455 gives it), nothing else does, and a bounded fuzz leaves the server serving.

import { assertEquals } from "@std/assert";
import type { Hooks, Server } from "@wskit/wskit";
import { test } from "./_support/harness.ts";
import { flags } from "./_support/runtime_flags.ts";
import { withServer } from "./_support/serve.ts";
import { rawWebSocket } from "./_support/raw_ws.ts";
import { closeFrame, frame } from "./_support/ws_wire.ts";
import { connectTcp, rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { waitFor, within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

/** An echo server that records what its close hook sees. */
function withEcho(
  body: (server: Server, closes: { code: number; reason: string }[]) => Promise<void>,
): Promise<void> {
  const closes: { code: number; reason: string }[] = [];
  const hooks: Hooks = {
    message: (peer, m) => void peer.send(m),
    close: (_p, d) => void closes.push(d),
  };
  return withServer(hooks, (server) => body(server, closes));
}

test("invalid UTF-8 in a text frame closes that connection with 1007", async () => {
  await withEcho(async (server, closes) => {
    const bystander = await TestClient.connect(server.url);
    const raw = await rawWebSocket(server.port);
    raw.write(frame(1, new Uint8Array([0x68, 0x69, 0xff, 0xfe])));
    await within(raw.conn.closed, "the connection to end");
    if (flags.closeFrameOnProtocolError) assertEquals(raw.closeCode(), 1007);
    await waitFor(() => closes.length === 1, "the close hook");
    assertEquals(closes[0]!.code, 1007);
    assertEquals(server.stats().closed.protocol, 1);
    bystander.send("still here");
    assertEquals(await bystander.next(), "still here");
    await bystander.close();
  });
});

test("reserved opcodes, reserved bits and unmasked frames close that connection with 1002", async () => {
  await withEcho(async (server, closes) => {
    const bad = [
      frame(3, "x"), // reserved data opcode
      frame(1, "x", { rsv: 4 }), // RSV1 without an extension
      frame(9, "x".repeat(200)), // a ping longer than 125 bytes
    ];
    for (const [i, bytes] of bad.entries()) {
      const raw = await rawWebSocket(server.port);
      raw.write(bytes);
      await within(raw.conn.closed, `connection ${i} to end`);
      if (flags.closeFrameOnProtocolError) assertEquals(raw.closeCode(), 1002, `case ${i}`);
      await waitFor(() => closes.length === i + 1, `close hook ${i}`);
      assertEquals(closes[i]!.code, 1002, `case ${i}: ${closes[i]!.reason}`);
    }
    const c = await TestClient.connect(server.url);
    c.send("ok");
    assertEquals(await c.next(), "ok");
    await c.close();
  });
});

test("garbage bytes after the handshake end that connection only", async () => {
  await withEcho(async (server, closes) => {
    const bystander = await TestClient.connect(server.url);
    const raw = await rawWebSocket(server.port);
    raw.write(crypto.getRandomValues(new Uint8Array(4096)));
    raw.write(crypto.getRandomValues(new Uint8Array(4096)));
    // Random bytes may happen to announce a huge frame that never completes; either the
    // server closes at once or it waits for the rest, and closing our side ends it.
    await within(raw.conn.closed, "the server to drop it", 2_000).catch(() => raw.conn.close());
    await waitFor(() => closes.length === 1, "the close hook");
    bystander.send("fine");
    assertEquals(await bystander.next(), "fine");
    await bystander.close();
  });
});

test("a client close frame with a code is echoed and reaches the hook", async () => {
  await withEcho(async (server, closes) => {
    const raw = await rawWebSocket(server.port);
    raw.write(closeFrame(4321, "raw bye"));
    await within(raw.conn.closed, "the connection to end");
    assertEquals(raw.closeCode(), 4321);
    await waitFor(() => closes.length === 1, "the close hook");
    assertEquals(closes[0], { code: 4321, reason: "raw bye" });
  });
});

test("oversized headers on an upgrade get a 4xx, and the server keeps serving", async () => {
  await withEcho(async (server) => {
    const res = await rawHttp(server.port, upgradeRequest("/", { "x-big": "a".repeat(200_000) }));
    assertEquals(res.status, flags.oversizedHeadersStatus);
    const c = await TestClient.connect(server.url);
    c.send("after");
    assertEquals(await c.next(), "after");
    await c.close();
  });
});

test(
  "a bounded fuzz of random and mutated frames leaves the server serving everyone else",
  async () => {
    const workers = 40;
    const budget = 10_000; // frames in all; a worker whose connection dies opens another
    await withEcho(async (server) => {
      const good = await TestClient.connect(server.url);
      let sent = 0;
      const ticker = setInterval(() => {
        for (let i = 0; i < 4; i++) good.send(`good ${sent++}`);
      }, 2);
      const seeds = [
        frame(1, "hello"),
        frame(2, new Uint8Array([1, 2, 3])),
        frame(9, "ping"),
        frame(1, "part", { fin: false }),
        frame(0, "cont"),
        frame(8, new Uint8Array([0x03, 0xe8])),
        frame(1, "x".repeat(300)),
      ];
      let frames = 0;
      let connections = 0;
      const mutate = (i: number) => {
        if (i % 3 === 0) return crypto.getRandomValues(new Uint8Array(1 + (i * 37) % 200));
        const bytes = seeds[i % seeds.length]!.slice();
        for (let f = 0; f <= i % 3; f++) {
          bytes[Math.floor(Math.random() * bytes.length)]! ^= 1 << Math.floor(Math.random() * 8);
        }
        return bytes;
      };
      try {
        await Promise.all(Array.from({ length: workers }, async () => {
          while (frames < budget) {
            let raw;
            try {
              raw = await rawWebSocket(server.port);
            } catch {
              continue; // a refused or dropped handshake is a fine outcome too
            }
            connections++;
            const conn = raw.conn;
            for (let i = 0; i < 100 && frames < budget && !conn.isClosed; i++) {
              raw.write(mutate(frames++));
              if (i % 10 === 9) await new Promise((r) => setTimeout(r, 0));
            }
            raw.conn.close();
          }
        }));
      } finally {
        clearInterval(ticker);
      }
      console.log(
        `fuzz: ${connections} connections, ${frames} frames, ${sent} good messages beside`,
      );
      const expected = sent;
      await waitFor(
        () => good.messages.length === expected,
        "every echo at the good client",
        10_000,
      );
      good.messages.forEach((m, i) => assertEquals(m, `good ${i}`));
      assertEquals(good.ws.readyState, WebSocket.OPEN);
      await good.close();
      await waitFor(() => server.stats().peers === 0, "every fuzzed connection to be gone", 10_000);
    });
  },
  { timeout: 40_000 },
);

test("a half-sent handshake and a silent TCP connection do not hold up anyone else", async () => {
  await withEcho(async (server) => {
    const half = await connectTcp(server.port);
    half.write("GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n");
    const silent = await connectTcp(server.port);
    const c = await TestClient.connect(server.url);
    c.send("through");
    assertEquals(await c.next(), "through");
    await c.close();
    half.close();
    silent.close();
  });
});
