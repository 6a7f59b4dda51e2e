// Binary messages reach hooks as a plain Uint8Array on both runtimes. A suite half runs one
// runtime's adapter in process; this file starts a server on the other runtime, so that
// `deno test` checks Bun's adapter too and `bun test` checks Deno's.

import { assertEquals } from "@std/assert";
import { runtime, test } from "../_harness.ts";
import { runtimeBin, spawn } from "../_process.ts";
import { within } from "../_wait.ts";
import { TestClient } from "../_ws.ts";

const other = runtime === "deno" ? "bun" : "deno";

test(`binary messages reach a ${other} server's hooks as Uint8Array, text as string`, async () => {
  const script = new URL("./_binary_server.ts", import.meta.url).pathname;
  const args = other === "deno" ? ["run", "--allow-net", script] : ["run", script];
  const child = spawn(runtimeBin(other), args);
  try {
    const url = (await child.waitForLine(/^ws:\/\//, 15_000)).trim();
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
