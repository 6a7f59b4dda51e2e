// The examples as real processes, started with the README's own command lines on both
// runtimes and driven by this runtime's WebSocket client. Under `deno test` that is a Deno
// client against the Deno and the Bun server; under `bun test`, a Bun client against both.

import { assertEquals, assertStringIncludes } from "@std/assert";
import { test } from "./_support/harness.ts";
import { flagsOf } from "./_support/runtime_flags.ts";
import { assertEndedByItself, signalled, startExample } from "./_support/process.ts";
import { rawHttp, upgradeRequest } from "./_support/tcp.ts";
import { within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

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

  // The classic chat and the app speak the same JSON to plain WebSocket clients.
  for (const example of ["chat", "chat_app/main"]) {
    test(
      `examples/${example}.ts on ${runtime}: four clients get welcome, join, leave, every message`,
      async () => {
        const chat = await startExample(runtime, example, ["--port", "0"]);
        try {
          const page = await fetch(chat.url.replace("ws", "http"));
          assertEquals(page.status, 200);
          assertStringIncludes(await page.text(), "<title>wskit chat</title>");
          const missing = await fetch(chat.url.replace("ws", "http") + "nope");
          assertEquals(missing.status, 404);
          await missing.body?.cancel();
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

  test(
    `examples/chat.ts on ${runtime} refuses a name someone online goes by, the server's, and ` +
      `invisible or control characters, with the reason`,
    async () => {
      const chat = await startExample(runtime, "chat", ["--port", "0"]);
      const withName = (name: string) => `${chat.url}?name=${encodeURIComponent(name)}`;
      const ada = await TestClient.connect(withName(" ada "));
      try {
        assertEquals(await ada.json(), { type: "welcome", name: "ada", online: 1 });
        const refused: { names: string[]; code: number; reason: string }[] = [
          { names: ["ada", "ADA", "ａｄａ"], code: 4409, reason: "someone online goes by it" },
          {
            names: ["server", "System", "ｓｙｓｔｅｍ", "ˢᵉʳᵛᵉʳ"],
            code: 4400,
            reason: "it is the server's",
          },
          {
            names: [
              "a\u200Bda", // zero-width space
              "\u202Eada", // right-to-left override
              "\u2067ada\u2069", // isolate
              "ada\u200E", // left-to-right mark
              "a\uFEFFda", // zero-width no-break space
              "\u3164", // Hangul filler
              "ada\u0007",
              "a\nb",
              "\u001B[31mada",
              "ada\u00A0x", // no-break space
              "n".repeat(33),
            ],
            code: 4400,
            reason: "it has 1 to 32 visible characters",
          },
        ];
        for (const { names, code, reason } of refused) {
          for (const name of names) {
            const c = await TestClient.connect(withName(name));
            const closed = await within(c.closed, `the refusal of ${JSON.stringify(name)}`);
            const label = JSON.stringify(name);
            assertEquals(
              [closed.code, closed.reason],
              [code, `Cannot use the name: ${reason}`],
              label,
            );
            assertEquals(c.messages, [], `no welcome before the refusal of ${label}`);
          }
        }
        // Guests never take a name someone picked; a name is free again once its holder left.
        const picked = await TestClient.connect(withName("guest-1"));
        assertEquals(await picked.json(), { type: "welcome", name: "guest-1", online: 2 });
        const guest = await TestClient.connect(chat.url);
        assertEquals((await guest.json()).name, "guest-2");
        await ada.close();
        await picked.until((m) => JSON.parse(m as string).type === "leave");
        const again = await TestClient.connect(withName("Ada"));
        assertEquals((await again.json()).name, "Ada");
        await picked.until((m) => JSON.parse(m as string).name === "Ada");
        // Nobody refused ever joined or left: the others saw only real joins and leaves.
        const seen = picked.messages.map((m) => JSON.parse(m as string));
        assertEquals(seen.map((m) => `${m.type} ${m.name}`), [
          "welcome guest-1",
          "join guest-2",
          "leave ada",
          "join Ada",
        ]);
        await Promise.all([picked.close(), guest.close(), again.close()]);
      } finally {
        await ada.close();
        await chat.stop();
      }
    },
    { timeout: 30_000 },
  );

  test(
    `examples/chat.ts on ${runtime} closes a client that sends binary, a message over 4 KiB ` +
      `or more than its burst, and chats on with the others`,
    async () => {
      const chat = await startExample(runtime, "chat", ["--port", "0"]);
      const other = await TestClient.connect(chat.url);
      try {
        await other.json(); // welcome
        const cases: [string, (c: TestClient) => void, number][] = [
          ["binary", (c) => c.send(new Uint8Array([1, 2, 3])), 1003],
          ["4 KiB and a byte", (c) => c.send("x".repeat(4097)), 1009],
          ["a flood", (c) => {
            for (let i = 0; i < 200; i++) c.send(`flood ${i}`);
          }, 1008],
        ];
        for (const [what, send, code] of cases) {
          const c = await TestClient.connect(chat.url);
          await c.json(); // welcome
          send(c);
          const got = (await within(c.closed, `the close for ${what}`)).code;
          // A client still sending when Deno closes may see the reset, not the code.
          const sending = what === "a flood" && !flagsOf(runtime).closeCodeReachesSendingClient;
          if (sending && (got === 1006 || got === 0)) continue;
          assertEquals(got, code, what);
        }
        // The flood was cut short: far fewer than 200 of it reached the others.
        const flood = () =>
          other.messages.filter((m) => String(m).includes('"text":"flood')).length;
        other.send("still here");
        await other.until((m) => String(m).includes('"text":"still here"'));
        assertEquals(flood() < 100, true, `${flood()} flood messages went out`);
      } finally {
        await other.close();
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
