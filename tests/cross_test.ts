// Cross pairs: the other runtime's own WebSocket client against this runtime's in-process
// server. Under `deno test` a Bun client talks to the Deno adapter; under `bun test` a Deno
// client talks to the Bun adapter.

import { assertEquals } from "@std/assert";
import { serve } from "@wskit/wskit";
import { runtime, test } from "./_harness.ts";
import { runtimeBin, spawn } from "./_process.ts";
import { waitFor, within } from "./_wait.ts";

const other = runtime === "deno" ? "bun" : "deno";

test(`a ${other} client against the ${runtime} server: echo and close code both ways`, async () => {
  const closes: unknown[] = [];
  const server = await serve({
    message: (peer, m) => void peer.send(m),
    close: (_peer, details) => void closes.push(details),
  }, { port: 0 });
  try {
    const probe = new URL("./fixtures/echo_probe.ts", import.meta.url).pathname;
    const args = other === "deno" ? ["run", "--allow-net", probe, server.url] : [probe, server.url];
    const child = spawn(runtimeBin(other), args);
    const line = await child.waitForLine(/^\{/, 15_000);
    assertEquals(JSON.parse(line), {
      seen: ["grüße 🌍", [1, 2, 3]],
      code: 4000,
      reason: "probe done",
    });
    assertEquals(await within(child.exited, "the probe's exit"), 0);
    await waitFor(() => closes.length === 1, "the close hook");
    assertEquals(closes, [{ code: 4000, reason: "probe done" }]);
  } finally {
    await server.close();
  }
}, { timeout: 30_000 });
