// maxPayloadBytes at its edge: exactly the limit passes and one byte more closes with 1009, for
// text (counted in UTF-8 bytes) and binary, on both runtimes; the others keep being served.

import { assertEquals } from "@std/assert";
import type { Hooks } from "@wskit/wskit";
import { test } from "../_support/harness.ts";
import { withServer } from "../_support/serve.ts";
import { waitFor, within } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";

const LIMIT = 1024;
/** Answers with the size it received, so that a passing message is seen whole. */
const sizes: Hooks = {
  message: (peer, m) =>
    void peer.send(typeof m === "string" ? `text ${m.length}` : `bin ${m.length}`),
};

const cases: [string, string | Uint8Array, string | Uint8Array, string][] = [
  ["binary", new Uint8Array(LIMIT), new Uint8Array(LIMIT + 1), `bin ${LIMIT}`],
  // "é" is 2 bytes of UTF-8: 512 of them are exactly the limit, one ASCII byte more is over.
  ["text", "é".repeat(LIMIT / 2), "é".repeat(LIMIT / 2) + "a", `text ${LIMIT / 2}`],
];

for (const [kind, atLimit, overLimit, answer] of cases) {
  test(`maxPayloadBytes: a ${kind} message of exactly the limit passes, one byte more closes with 1009`, async () => {
    const closes: number[] = [];
    await withServer({ ...sizes, close: (_p, d) => void closes.push(d.code) }, async (server) => {
      const bystander = await TestClient.connect(server.url);
      const c = await TestClient.connect(server.url);
      c.send(atLimit);
      assertEquals(await c.next(), answer);
      c.send(overLimit);
      assertEquals((await within(c.closed, "the 1009 close")).code, 1009);
      await waitFor(() => closes.length === 1, "the close hook");
      assertEquals(closes, [1009]);
      assertEquals(server.stats().closed.tooBig, 1);
      bystander.send(atLimit);
      assertEquals(await bystander.next(), answer);
      await bystander.close();
    }, { maxPayloadBytes: LIMIT });
  });
}
