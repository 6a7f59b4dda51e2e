// Binary messages reach hooks as a plain Uint8Array on both runtimes. A suite half runs one
// runtime's adapter in process; this file starts a server on the other runtime, so that
// `deno test` checks Bun's adapter too and `bun test` checks Deno's.

import { assertEquals } from "@std/assert";
import { otherRuntime as other, test } from "../_support/harness.ts";
import { runArgs, spawn, waitForStart } from "../_support/process.ts";
import { within } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";

test(`binary messages reach a ${other} server's hooks as Uint8Array, text as string`, async () => {
  const child = spawn(...runArgs(other, "tests/fixtures/binary_server.ts"));
  try {
    const url = (await waitForStart(child, /^ws:\/\//)).trim();
    const c = await TestClient.connect(url);
    c.send(new Uint8Array([0, 1, 254, 255]));
    assertEquals(await c.json(), {
      type: "object",
      constructor: "Uint8Array",
      bytes: [0, 1, 254, 255],
    });
    c.send(new Uint8Array([7]).buffer);
    assertEquals(await c.json(), { type: "object", constructor: "Uint8Array", bytes: [7] });
    c.send("text");
    assertEquals(await c.json(), { type: "string", constructor: "String", bytes: null });
    await c.close();
  } finally {
    child.kill("SIGTERM");
    await within(child.exited, `the ${other} server's exit`, 10_000);
  }
}, { timeout: 30_000 });
