// Cross pairs: the other runtime's own WebSocket client against this runtime's in-process
// server. Under `deno test` a Bun client talks to the Deno adapter; under `bun test` a Deno
// client talks to the Bun adapter.

import { assertEquals } from "@std/assert";
import type { Hooks } from "@wskit/wskit";
import { otherRuntime as other, runtime, test } from "./_support/harness.ts";
import { runArgs, spawn } from "./_support/process.ts";
import { withServer } from "./_support/serve.ts";
import { waitFor, within } from "./_support/wait.ts";

test(`a ${other} client against the ${runtime} server: echo and close code both ways`, async () => {
  const closes: unknown[] = [];
  const hooks: Hooks = {
    message: (peer, m) => void peer.send(m),
    close: (_peer, details) => void closes.push(details),
  };
  await withServer(hooks, async (server) => {
    const child = spawn(...runArgs(other, "tests/fixtures/echo_probe.ts", [server.url]));
    try {
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
      await child.stop();
    }
  });
}, { timeout: 30_000 });
