// permessage-deflate (option `compression`): opt-in on Bun, where a client that offers it gets
// large messages compressed and every message round-trips, and a compressed message is bounded
// by maxPayloadBytes once inflated; refused with a configuration error on Deno, whose
// WebSocket server has no compression. Off by default on both: an offer is declined.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type Hooks, serve, type Server } from "@wskit/wskit";
import { runtime, test } from "./_support/harness.ts";
import { flags } from "./_support/runtime_flags.ts";
import { type RawWebSocket, rawWebSocket } from "./_support/raw_ws.ts";
import { withServer } from "./_support/serve.ts";
import { closeFrame, frame, OP_TEXT } from "./_support/ws_wire.ts";
import { waitFor, within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

/** What a browser offers. */
const OFFER = { "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" };
const LARGE = "wskit compresses what repeats. ".repeat(200);
const SMALL = "under the threshold";

/** The server's `Sec-WebSocket-Extensions` answer in a raw handshake, or `null`. */
function extensions(raw: RawWebSocket): string | null {
  return /\r\nsec-websocket-extensions:\s*([^\r]*)/i.exec(raw.handshake)?.[1] ?? null;
}

/**
 * Inflates one message's payload: the 4 bytes RFC 7692 has the sender leave out, then an
 * empty final block, so that a plain deflate decoder sees a complete stream.
 */
async function inflate(payload: Uint8Array): Promise<string> {
  const tail = [0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff];
  const input = new Uint8Array([...payload, ...tail]);
  const stream = new Blob([input]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return await new Response(stream).text();
}

/**
 * A deflate bomb as permessage-deflate carries it: one block of fixed Huffman codes, the
 * letter "a" and then `copies` times "repeat 258 bytes from 1 back", about 1.6 bytes per
 * 258 bytes inflated.
 */
function deflateBomb(copies: number): Uint8Array {
  const out: number[] = [];
  let byte = 0, used = 0;
  const bit = (b: number) => {
    byte |= b << used;
    if (++used < 8) return;
    out.push(byte);
    byte = used = 0;
  };
  const bits = (value: number, count: number) => { // least significant first
    for (let i = 0; i < count; i++) bit((value >> i) & 1);
  };
  const code = (value: number, count: number) => { // Huffman codes: most significant first
    for (let i = count - 1; i >= 0; i--) bit((value >> i) & 1);
  };
  bits(0, 1); // not the final block
  bits(1, 2); // fixed Huffman codes
  code(0x30 + 0x61, 8); // the literal "a"
  for (let i = 0; i < copies; i++) {
    code(0xc5, 8); // length 258 (code 285)
    code(0, 5); // distance 1
  }
  code(0, 7); // end of block
  if (used > 0) out.push(byte);
  return new Uint8Array(out);
}

/** Waits for the `n`th frame (1-based) from the server and returns its payload. */
async function nthFrame(raw: RawWebSocket, n: number): Promise<Uint8Array> {
  await waitFor(() => raw.frames.length >= n, `frame ${n} from the server`);
  return raw.frames[n - 1]!.payload;
}

async function shut(...raws: RawWebSocket[]): Promise<void> {
  for (const raw of raws) {
    raw.write(closeFrame(1000));
    await within(raw.conn.closed, "the raw connection's close").catch(() => raw.conn.close());
  }
}

/** An echo server that subscribes every peer to "t". */
const echo: Hooks = {
  open: (peer) => peer.subscribe("t"),
  message: (peer, m) => void peer.send(m),
};

/** Checks that a server without the option declines an offer and sends messages as they are. */
async function declinedByDefault(): Promise<void> {
  await withServer(echo, async (server) => {
    const raw = await rawWebSocket(server.port, "/", OFFER);
    assertEquals(extensions(raw), null);
    raw.write(frame(OP_TEXT, LARGE));
    assertEquals(new TextDecoder().decode(await nthFrame(raw, 1)), LARGE);
    await shut(raw);
  });
}

test(
  `compression is off by default (an offer is declined); compression: true on ${runtime} ${
    flags.compression
      ? "negotiates permessage-deflate with clients that offer it and compresses large messages"
      : "is refused with a configuration error: Deno's WebSocket server has no compression"
  }`,
  async () => {
    await declinedByDefault();
    const adapter = runtime === "deno"
      ? await import("@wskit/wskit/deno")
      : await import("@wskit/wskit/bun");
    if (!flags.compression) {
      const why =
        "Cannot configure compression: Deno's WebSocket server does not support permessage-deflate";
      for (const compression of [true, { threshold: 0 }]) {
        let error: unknown;
        await serve(echo, { port: 0, compression }).then((s) => s.close(), (e) => error = e);
        assertEquals((error as Error | undefined)?.message, why);
        let thrown: unknown;
        try {
          adapter.createHandler(echo, { compression });
        } catch (e) {
          thrown = e;
        }
        assertEquals((thrown as Error | undefined)?.message, why);
      }
      await adapter.createHandler(echo, { compression: false }).close();
      return;
    }
    let server: Server | undefined;
    try {
      server = await serve(echo, { port: 0, compression: true });
      const deflating = await rawWebSocket(server.port, "/", OFFER);
      assertStringIncludes(extensions(deflating) ?? "", "permessage-deflate");
      const plain = await rawWebSocket(server.port, "/");
      assertEquals(extensions(plain), null);

      // Large: compressed for the client that negotiated it, as it is for the other one.
      deflating.write(frame(OP_TEXT, LARGE));
      const compressed = await nthFrame(deflating, 1);
      assert(compressed.length < LARGE.length / 10, `${compressed.length} bytes`);
      assertEquals(await inflate(compressed), LARGE);
      plain.write(frame(OP_TEXT, LARGE));
      assertEquals(new TextDecoder().decode(await nthFrame(plain, 1)), LARGE);
      // Under the threshold: as it is.
      deflating.write(frame(OP_TEXT, SMALL));
      assertEquals(new TextDecoder().decode(await nthFrame(deflating, 2)), SMALL);

      // A publish reaches both kinds of subscriber, each in its own form.
      await waitFor(() => server!.stats().subscribers.t === 2, "both subscriptions");
      server.publish("t", LARGE);
      assertEquals(await inflate(await nthFrame(deflating, 3)), LARGE);
      assertEquals(new TextDecoder().decode(await nthFrame(plain, 2)), LARGE);
      await shut(deflating, plain);

      // The runtime's own client offers it too, and a message of 1 MB round-trips.
      const client = await TestClient.connect(server.url);
      assertStringIncludes(client.ws.extensions, "permessage-deflate");
      const big = LARGE.repeat(170);
      client.send(big);
      assertEquals(await client.next(), big);
      await client.close();

      for (const compression of ["yes", { threshold: -1 }, { threshold: Number.NaN }]) {
        let thrown: unknown;
        try {
          adapter.createHandler(echo, { compression } as unknown as { compression: boolean });
        } catch (e) {
          thrown = e;
        }
        assertStringIncludes(String(thrown), "Cannot configure compression: ");
      }
    } finally {
      await server?.close();
    }
  },
);

test(
  `a deflate bomb is never held: ${
    flags.compression
      ? "past maxPayloadBytes once inflated, its peer is closed with 1009"
      : "without compression, its frame is a protocol error (1002)"
  }`,
  async () => {
    const closes: number[] = [];
    const hooks: Hooks = { ...echo, close: (_peer, { code }) => void closes.push(code) };
    await withServer(hooks, async (server) => {
      const raw = await rawWebSocket(server.port, "/", OFFER);
      // 4 KB on the wire, 1 MiB inflated: 16 times the limit.
      const bomb = deflateBomb(4064);
      assert(bomb.length < 8192, `${bomb.length} bytes`);
      raw.write(frame(OP_TEXT, bomb, { rsv: 4 }));
      await within(raw.conn.closed, "the connection to end");
      const code = flags.compression ? 1009 : 1002;
      if (flags.closeFrameOnProtocolError) assertEquals(raw.closeCode(), code);
      await waitFor(() => closes.length === 1, "the close hook");
      assertEquals(closes, [code]);
      assertEquals(server.stats().closed[flags.compression ? "tooBig" : "protocol"], 1);
      assertEquals(raw.frames.filter((f) => f.opcode === OP_TEXT), [], "nothing echoed");
      const bystander = await TestClient.connect(server.url);
      bystander.send("still here");
      assertEquals(await bystander.next(), "still here");
      await bystander.close();
    }, { compression: flags.compression, maxPayloadBytes: 64 * 1024 });
  },
);
