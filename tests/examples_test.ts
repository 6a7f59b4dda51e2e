// The examples as real processes, started with the README's own command lines on both
// runtimes and driven by this runtime's WebSocket client. Under `deno test` that is a Deno
// client against the Deno and the Bun server; under `bun test`, a Bun client against both.

import { assertEquals, assertStringIncludes } from "@std/assert";
import { test } from "./_harness.ts";
import { assertEndedByItself, signalled, startExample } from "./_process.ts";
import { rawHttp, upgradeRequest } from "./_tcp.ts";
import { within } from "./_wait.ts";
import { TestClient } from "./_ws.ts";

for (const runtime of ["deno", "bun"] as const) {
  test(
    `examples/echo.ts on ${runtime}: text, 1 MiB, binary, clean close, 1001 on SIGTERM`,
    async () => {
      const echo = await startExample(runtime, "echo", ["--port", "0"]);
      try {
        const c = await TestClient.connect(echo.url);
        for (const text of ["hello", "grüße, 世界 🌍", "x".repeat(1024 * 1024)]) {
          c.send(text);
          assertEquals(await c.next(), text);
        }
        const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
        c.send(bytes);
        assertEquals(await c.next(), bytes);
        const closed = await c.close(1000, "done");
        assertEquals([closed.code, closed.wasClean], [1000, true]);
        const last = await TestClient.connect(echo.url);
        assertEquals(await echo.stop(), 0);
        assertEquals((await within(last.closed, "1001 from the stopping server")).code, 1001);
      } finally {
        echo.child.kill("SIGKILL");
        await echo.child.exited;
      }
    },
    { timeout: 30_000 },
  );

  test(
    `examples/echo.ts --hello on ${runtime} says "Hello?" every second, and stops when the ` +
      `client leaves: nothing holds the process at SIGTERM`,
    async () => {
      const echo = await startExample(runtime, "echo", ["--port", "0", "--hello"]);
      try {
        const c = await TestClient.connect(echo.url);
        assertEquals(await c.next(3_000), "Hello?");
        assertEquals(await c.next(3_000), "Hello?");
        await c.close();
        // A timer left running for the departed client would keep the process alive after
        // the shutdown, and the example would say so.
        assertEndedByItself(echo.child, await signalled(echo.child, "SIGTERM"));
      } finally {
        echo.child.kill("SIGKILL");
        await echo.child.exited;
      }
    },
    { timeout: 30_000 },
  );

  test(
    `examples/chat.ts on ${runtime}: four clients get welcome, join, leave, every message`,
    async () => {
      const chat = await startExample(runtime, "chat", ["--port", "0"]);
      try {
        const page = await fetch(chat.url.replace("ws", "http"));
        assertEquals(page.status, 200);
        assertStringIncludes(await page.text(), "<title>wskit chat</title>");
        const clients: TestClient[] = [];
        for (let i = 1; i <= 4; i++) {
          const c = await TestClient.connect(chat.url);
          assertEquals(await c.json(), { type: "welcome", name: `guest-${i}`, online: i });
          for (const earlier of clients) {
            assertEquals(await earlier.json(), { type: "join", name: `guest-${i}`, online: i });
          }
          clients.push(c);
        }
        for (const [i, c] of clients.entries()) c.send(`message ${i}`);
        for (const c of clients) {
          const texts = [];
          for (let i = 0; i < 4; i++) texts.push((await c.json()).text);
          assertEquals(texts.sort(), ["message 0", "message 1", "message 2", "message 3"]);
        }
        await clients.pop()!.close();
        for (const c of clients) {
          assertEquals(await c.json(), { type: "leave", name: "guest-4", online: 3 });
        }
        // Nothing else arrived: a welcome, the later joins, four messages and one leave.
        clients.forEach((c, i) => assertEquals(c.messages.length, 1 + (3 - i) + 4 + 1));
        await Promise.all(clients.map((c) => c.close()));
      } finally {
        await chat.stop();
      }
    },
    { timeout: 30_000 },
  );
}

for (const runtime of ["deno", "bun"] as const) {
  test(`examples/echo.ts on ${runtime} takes --max-payload and repeated --origin`, async () => {
    const echo = await startExample(runtime, "echo", [
      "--port",
      "0",
      "--max-payload",
      "1000",
      "--origin",
      "https://one.example",
      "--origin",
      "https://two.example",
    ]);
    try {
      for (
        const [origin, status] of [
          ["https://one.example", 101],
          ["https://two.example", 101],
          ["https://evil.example", 403],
        ] as const
      ) {
        const res = await rawHttp(echo.port, upgradeRequest("/", { origin }));
        assertEquals(res.status, status, origin);
      }
      const c = await TestClient.connect(echo.url);
      c.send("x".repeat(1000));
      assertEquals(await c.next(), "x".repeat(1000));
      c.send("x".repeat(1001));
      assertEquals((await within(c.closed, "1009")).code, 1009);
    } finally {
      await echo.stop();
    }
  }, { timeout: 30_000 });
}
