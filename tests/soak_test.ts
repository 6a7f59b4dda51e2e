// A short soak: clients join, chat and leave in churn for about ten seconds against the chat
// room. Afterwards nothing is left: no peers, no places held, no subscribers, and (on Deno)
// the resource and op sanitizers find nothing open. The longer soak lives in bench/.

import { assert, assertEquals } from "@std/assert";
import { chatApp } from "../examples/chat_app/room.ts";
import { serve } from "@wskit/wskit";
import { test } from "./_support/harness.ts";
import { waitFor } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";
import { rawWebSocket } from "./_support/raw_ws.ts";

const SECONDS = 10;
const CONCURRENT = 40;

test(
  `soak: ${SECONDS} s of churn (${CONCURRENT} at a time) leaves zero peers and subscribers`,
  async () => {
    const server = await serve(chatApp().hooks, { port: 0 });
    const end = Date.now() + SECONDS * 1000;
    let opened = 0;
    let messages = 0;
    let welcomes = 0;
    let dropped = 0;
    const live = new Set<TestClient>();
    try {
      while (Date.now() < end) {
        while (live.size < CONCURRENT) {
          const c = await TestClient.connect(server.url);
          const welcome = await c.json();
          if (welcome.type === "welcome") welcomes++;
          live.add(c);
          opened++;
        }
        for (const c of live) {
          if (Math.random() < 0.5) {
            c.send(`message ${messages++}`);
          }
        }
        // A quarter of the room leaves with a close frame, and one more drops its TCP
        // connection without one, right after joining.
        const leaving = [...live].filter(() => Math.random() < 0.25);
        await Promise.all(leaving.map((c) => {
          live.delete(c);
          return c.close(Math.random() < 0.5 ? 1000 : 4000);
        }));
        const abrupt = await rawWebSocket(server.port);
        dropped++;
        abrupt.conn.close();
      }
      await Promise.all([...live].map((c) => c.close()));
      live.clear();
      await waitFor(
        () => {
          const { peers, pending, closing } = server.stats();
          return peers === 0 && pending === 0 && closing === 0;
        },
        "every peer and every place to be gone",
        10_000,
      );
      const stats = server.stats();
      console.log(
        `soak: ${opened + dropped} connections (${dropped} dropped without a close frame), ` +
          `${messages} messages in ${SECONDS} s`,
      );
      assertEquals(welcomes, opened, "every client connection got its welcome");
      assertEquals([stats.peers, stats.topics, stats.subscribers], [0, 0, {}]);
      assert(opened > CONCURRENT * 5, `enough churn: ${opened} connections`);
    } finally {
      await Promise.all([...live].map((c) => c.close()));
      await server.close();
    }
  },
  { timeout: SECONDS * 1000 + 30_000 },
);
