// Hostile names and unencodable results in the session layer: a client-chosen name never
// reaches an inherited property, a result JSON cannot carry answers "Internal error", a
// client's long name is never reflected at length, and no input ends in an unhandled
// rejection (which would end the process).

import { assert, assertEquals, assertLess } from "@std/assert";
import { RemoteError } from "@wskit/wskit/protocol";
import { MemoryStore, type SessionOptions, sessions } from "@wskit/wskit/session";
import { runtime, test } from "../_support/harness.ts";
import { startExample } from "../_support/process.ts";
import { withServer } from "../_support/serve.ts";
import { waitFor } from "../_support/wait.ts";
import { helloSession } from "../_support/ws.ts";
import { answer, clientFrame } from "../_support/session_wire.ts";
import { watchUnhandled } from "../_support/unhandled.ts";

type Frame = Record<string, unknown>;

function cycle(): unknown {
  const o: Record<string, unknown> = {};
  o.self = o;
  return o;
}

function withSessions(
  options: SessionOptions<never, unknown>,
  body: (url: string) => Promise<void>,
): Promise<void> {
  return withServer(sessions(options).hooks, (server) => body(server.url));
}

test("sessions: names of Object.prototype as event, request and room reach no handler; the server keeps serving", async () => {
  const unhandled = watchUnhandled();
  const errors: string[] = [];
  try {
    await withSessions({
      requests: { ping: () => "pong" } as never,
      events: { note: () => {} } as never,
      error: (_s, e) => void errors.push(String((e as Error).message)),
    }, async (url) => {
      const [raw] = await helloSession(url);
      const names = Object.getOwnPropertyNames(Object.prototype);
      let q = 0;
      for (const name of names) {
        raw.send(clientFrame({ t: "r", q: ++q, e: name }));
        const res = await answer(raw, q);
        assertEquals((res.err as Frame).code, "unknown_request", name);
        raw.send(clientFrame({ t: "e", q: ++q, e: name, d: { x: 1 } }));
        raw.send(clientFrame({ t: "j", q: ++q, r: name }));
        const joined = await answer(raw, q);
        assertEquals(joined.err, undefined, `joining a room named ${name}`);
      }
      raw.send(clientFrame({ t: "r", q: ++q, e: "ping" }));
      assertEquals((await answer(raw, q)).d, "pong");
      // Frames are handled in order: every event before the ping has been handled by now.
      assertEquals(
        errors.sort(),
        names.map((name) => `Cannot handle event ${JSON.stringify(name)}: no handler`).sort(),
        "each inherited name reported as unknown, and nothing else happened",
      );
      await raw.close();
    });
  } finally {
    assertEquals(unhandled.stop(), []);
  }
});

test("sessions: a result or error JSON cannot carry answers Internal error and reaches the error hook", async () => {
  const unhandled = watchUnhandled();
  const errors: unknown[] = [];
  try {
    await withSessions({
      requests: {
        cycle: () => cycle(),
        big: () => 10n,
        later: () => Promise.resolve().then(cycle),
        badCode: () => {
          throw new RemoteError("refused", { code: 1n as unknown as string });
        },
      } as never,
      events: {
        emits(session: { emit(e: string, p: unknown): void }) {
          session.emit("x", cycle());
        },
      } as never,
      error: (_s, e) => void errors.push(e),
    }, async (url) => {
      const [raw] = await helloSession(url);
      let q = 0;
      for (const name of ["cycle", "big", "later", "badCode"]) {
        raw.send(clientFrame({ t: "r", q: ++q, e: name }));
        const res = await answer(raw, q);
        assertEquals(res.err, { name: "RemoteError", message: "Internal error", code: "internal" });
      }
      raw.send(clientFrame({ t: "e", q: ++q, e: "emits" }));
      raw.send(clientFrame({ t: "r", q: ++q, e: "nothing" }));
      await answer(raw, q);
      await waitFor(() => errors.length >= 5, "five reports");
      for (const e of errors) assert(e instanceof TypeError, String(e));
      await raw.close();
    });
  } finally {
    assertEquals(unhandled.stop(), []);
  }
});

test("sessions: a 3 MiB request or room name is answered with a short prefix, and the log keeps no copy", async () => {
  const store = new MemoryStore();
  await withSessions({ store }, async (url) => {
    const [raw] = await helloSession(url);
    const huge = "n".repeat(3 * 1024 * 1024);
    raw.send(clientFrame({ t: "r", q: 1, e: huge }));
    const unknown = await answer(raw, 1);
    assertEquals((unknown.err as Frame).code, "unknown_request");
    assertLess(String((unknown.err as Frame).message).length, 120);
    raw.send(clientFrame({ t: "j", q: 2, r: huge }));
    const refused = await answer(raw, 2);
    assertEquals((refused.err as Frame).code, "bad_room");
    assertLess(String((refused.err as Frame).message).length, 120);
    assertLess(store.bytes, 1024, "the answers in the replay log are short");
    await raw.close();
  });
});

test(
  `examples/chat_app/main.ts on ${runtime} answers the frame that used to end it, and keeps serving`,
  async () => {
    const chat = await startExample(runtime, "chat_app/main", ["--port", "0"]);
    try {
      const [raw] = await helloSession(`${chat.url}?name=mallory`);
      raw.send(clientFrame({ t: "r", q: 1, e: "constructor" }));
      const res = await answer(raw, 1);
      assertEquals((res.err as Frame).code, "unknown_request");
      raw.send(clientFrame({ t: "r", q: 2, e: "__proto__" }));
      assertEquals(((await answer(raw, 2)).err as Frame).code, "unknown_request");
      await raw.close();
      const [again] = await helloSession(`${chat.url}?name=alice`);
      again.send(clientFrame({ t: "r", q: 1, e: "say", d: { text: "still here", ref: 1 } }));
      assertEquals((await answer(again, 1)).err, undefined);
      await again.close();
    } finally {
      assertEquals(await chat.stop(), 0, "the chat exits cleanly on SIGTERM, having stayed up");
    }
  },
  { timeout: 30_000 },
);
