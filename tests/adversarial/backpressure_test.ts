// The default backpressure policy, with no policy option given: a peer that does not read is
// closed (1013 in the close hook) and counted, on both runtimes, while the others are served.

import { assertEquals } from "@std/assert";
import type { Peer } from "@wskit/wskit";
import { test } from "../_support/harness.ts";
import { rawWebSocket } from "../_support/raw_ws.ts";
import { frame } from "../_support/ws_wire.ts";
import { withServer } from "../_support/serve.ts";
import { waitFor } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";

test("backpressure: by default a peer that stops reading is closed and counted", async () => {
  const chunk = "c".repeat(16 * 1024);
  const closes: { code: number }[] = [];
  let statuses = "";
  /** Sends to the peer until a send is dropped, a few chunks per turn of the event loop. */
  const push = (peer: Peer, left: number) => {
    for (let i = 0; i < 8 && left > 0; i++, left--) {
      const status = peer.send(chunk);
      if (status === "dropped") {
        statuses = status;
        return;
      }
    }
    if (left > 0) setTimeout(() => push(peer, left), 1);
  };
  await withServer({
    message: (peer, m) => m === "push" ? push(peer, 2_000) : void peer.send(m),
    close: (_p, d) => void closes.push(d),
  }, async (server) => {
    const reader = await TestClient.connect(server.url);
    const slow = await rawWebSocket(server.port);
    slow.conn.pause();
    slow.write(frame(1, "push"));
    await waitFor(() => closes.length === 1, "the slow peer's close", 15_000);
    assertEquals(statuses, "dropped");
    assertEquals(closes[0]!.code, 1013);
    assertEquals(server.stats().closed.backpressure, 1);
    assertEquals(server.stats().dropped, 0, "nothing counted as merely dropped");
    reader.send("still served");
    assertEquals(await reader.next(), "still served");
    slow.conn.close();
    await reader.close();
  }, { backpressure: { maxBytes: 256 * 1024 } });
}, { timeout: 30_000 });
