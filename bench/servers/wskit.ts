/**
 * The wskit subject, one file for both runtimes: `serve()` picks the Deno or the Bun adapter,
 * exactly as an application would. Defaults stay on (the `wskit:ping` heartbeat, the close
 * timeout), so the figures are what a user gets.
 *
 * @module
 */

import { serve } from "@wskit/wskit";
import type { Hooks } from "@wskit/wskit";
import { config, ready } from "./_control.ts";

const { mode, port } = config();

const hooks: Record<typeof mode, Hooks> = {
  echo: {
    message(peer, message) {
      peer.send(message);
    },
  },
  chat: {
    open(peer) {
      peer.subscribe("room");
    },
    message(peer, message) {
      peer.publish("room", message, { self: true });
    },
  },
  fanout: {
    open(peer) {
      if (!peer.url.searchParams.has("pub")) peer.subscribe("room");
    },
    message(peer, message) {
      peer.publish("room", message);
    },
  },
};

const server = await serve(hooks[mode], { hostname: "127.0.0.1", port });
ready(server.port);
