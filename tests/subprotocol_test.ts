// Subprotocols as standard clients need them: a server whose upgrade hook names none speaks
// the first one the client offered (as `ws` and Hono do), because browsers and Bun's client
// fail a connection whose server chose none of their offers; the hook's choice wins, `""`
// chooses none, and the server warns once when it accepts a connection that way. Checked with
// this runtime's client, the other runtime's, a raw handshake and Chromium.

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { Hooks } from "@wskit/wskit";
import { Browser, DESKTOP } from "./_support/cdp.ts";
import { captureConsole } from "./_support/console.ts";
import { otherRuntime as other, runtime, test } from "./_support/harness.ts";
import { runArgs, spawn } from "./_support/process.ts";
import { rawWebSocket } from "./_support/raw_ws.ts";
import { withServer } from "./_support/serve.ts";
import { closeFrame } from "./_support/ws_wire.ts";
import { waitFor, within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

const OFFER = ["chat.v2", "chat.v1"];

/** The server's `Sec-WebSocket-Protocol` answer in a raw handshake, or `null` without one. */
function answered(handshake: string): string | null {
  return /\r\nsec-websocket-protocol:\s*([^\r]*)/i.exec(handshake)?.[1] ?? null;
}

test(`with no upgrade hook, a ${runtime} client opens with the first subprotocol it offered`, async () => {
  const seen: string[] = [];
  await withServer({ open: (peer) => void seen.push(peer.protocol) }, async (server) => {
    const client = await TestClient.connect(server.url, OFFER);
    assertEquals(client.ws.protocol, "chat.v2");
    await waitFor(() => seen.length === 1, "the open hook");
    assertEquals(seen, ["chat.v2"]);
    await client.close();
  });
});

test("a hook that names no subprotocol gets the first offered; the hook's choice wins", async () => {
  const hooks: Hooks<string> = {
    upgrade(request) {
      const choice = new URL(request.url).searchParams.get("choose");
      return choice === null ? { data: "default" } : { data: "chosen", protocol: choice };
    },
  };
  await withServer(hooks, async (server) => {
    const plain = await rawWebSocket(server.port, "/", { "sec-websocket-protocol": "a, b,c" });
    assertEquals(answered(plain.handshake), "a");
    const chosen = await rawWebSocket(server.port, "/?choose=c", {
      "sec-websocket-protocol": "a, b,c",
    });
    assertEquals(answered(chosen.handshake), "c");
    const none = await rawWebSocket(server.port, "/");
    assertEquals(answered(none.handshake), null, "no offer, no answer");
    for (const raw of [plain, chosen, none]) raw.conn.close();
  });
});

test(`protocol "" accepts with none, and the server warns once that standard clients fail it`, async () => {
  await captureConsole(async (captured) => {
    const warnings = captured.warn;
    const hooks: Hooks = { upgrade: () => ({ protocol: "" }) };
    await withServer(hooks, async (server) => {
      // A client that offers nothing is answered with nothing, and is no cause to warn.
      const quiet = await rawWebSocket(server.port, "/");
      assertEquals([answered(quiet.handshake), warnings], [null, []]);
      const long = `x${"y".repeat(5000)}`;
      const offer = `${long}, chat.v2, chat.v1, chat.v0`;
      const first = await rawWebSocket(server.port, "/", { "sec-websocket-protocol": offer });
      assertEquals(answered(first.handshake), null);
      const second = await rawWebSocket(server.port, "/", { "sec-websocket-protocol": "chat.v2" });
      assertEquals(answered(second.handshake), null);
      assertEquals(captured.lines().length, 1, captured.lines().join("\n"));
      const warning = captured.lines()[0]!;
      assert(warning.startsWith("wskit: "), warning);
      assertStringIncludes(warning, `"chat.v2"`);
      assertStringIncludes(warning, "browsers and Bun's client fail such a connection");
      // The client's strings are clipped, not reflected at full length.
      assert(warning.length < 600, `a warning of ${warning.length} characters`);
      for (const raw of [quiet, first, second]) {
        raw.write(closeFrame(1000));
        raw.conn.close();
      }
    });
    // Once per server: another server warns again.
    await withServer(hooks, async (server) => {
      const raw = await rawWebSocket(server.port, "/", { "sec-websocket-protocol": "chat.v2" });
      raw.conn.close();
      await waitFor(() => warnings.length === 2, "the second server's warning");
    });
  });
});

/** Chooses none for a request with `?none`, else leaves the choice to wskit. */
const noneWhenAsked: Hooks = {
  upgrade: (request) => new URL(request.url).searchParams.has("none") ? { protocol: "" } : {},
};

/**
 * Whether a runtime's WebSocket client opens a connection whose server chose none of the
 * subprotocols it offered: Deno's does (its `protocol` then `""`), as RFC 6455 allows; Bun's
 * fails it ("Missing client protocol"), as browsers do (Chromium, below).
 */
const OPENS_WITHOUT_PROTOCOL = { deno: true, bun: false };

/** What `client`'s WebSocket reports for `url` (tests/fixtures/protocol_probe.ts). */
async function probe(client: "deno" | "bun", url: string): Promise<unknown> {
  const child = spawn(
    ...runArgs(client, "tests/fixtures/protocol_probe.ts", [url, OFFER.join(",")]),
  );
  try {
    const line = await child.waitForLine(/^\{/, 15_000);
    assertEquals(await within(child.exited, `the ${client} probe's exit`), 0);
    return JSON.parse(line);
  } finally {
    await child.stop();
  }
}

test(
  `Deno's and Bun's clients open with the first offered subprotocol of a ${runtime} server; ` +
    `of a server that chose none, Deno's opens and Bun's fails`,
  async () => {
    await captureConsole(async () => {
      await withServer(noneWhenAsked, async (server) => {
        for (const client of [runtime, other]) {
          const first = await probe(client, server.url);
          assertEquals(first, { opened: true, protocol: "chat.v2" }, client);
          const none = await probe(client, `${server.url}?none`);
          const expected = OPENS_WITHOUT_PROTOCOL[client]
            ? { opened: true, protocol: "" }
            : { opened: false };
          assertEquals(none, expected, client);
        }
      });
    });
  },
  { timeout: 60_000 },
);

test(
  `Chromium opens with the first offered subprotocol of a ${runtime} server, and fails one ` +
    `that chose none`,
  async () => {
    const offers: (string | null)[] = [];
    const hooks: Hooks = {
      upgrade(request, info) {
        offers.push(request.headers.get("sec-websocket-extensions"));
        return noneWhenAsked.upgrade!(request, info);
      },
    };
    await captureConsole(async () => {
      await withServer(hooks, async (server) => {
        let browser: Browser | undefined;
        try {
          browser = await Browser.launch();
          const page = await browser.newPage("page", DESKTOP);
          await page.goto(`http://127.0.0.1:${server.port}/`);
          const open = (query: string) =>
            page.evaluate<string>(`new Promise((resolve) => {
              const ws = new WebSocket("ws://127.0.0.1:${server.port}/${query}", ${
              JSON.stringify(OFFER)
            });
              ws.onopen = () => { resolve("open " + ws.protocol); ws.close(); };
              ws.onerror = () => resolve("error");
            })`);
          assertEquals(await open(""), "open chat.v2");
          assertEquals(await open("?none"), "error");
          // Browsers offer compression too (docs/runtimes.md), which only Bun can take.
          assertEquals(offers.length, 2);
          for (const offer of offers) assertStringIncludes(offer ?? "", "permessage-deflate");
        } finally {
          await browser?.close();
        }
      }, { fetch: () => new Response("a page of the server's origin") });
    });
  },
  { timeout: 60_000, requires: ["chromium"] },
);
