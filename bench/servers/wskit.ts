/**
 * The wskit subject, one file for both runtimes: `serve()` picks the Deno or the Bun adapter,
 * exactly as an application would. Defaults stay on (the `wskit:ping` heartbeat, the close
 * timeout), so the figures are what a user gets. In `session` mode the hooks are those of
 * `sessions()` (the session layer with its defaults), whose `ping` handler emits `pong` back.
 *
 * @module
 */

import { serve } from "@wskit/wskit";
import type { Hooks } from "@wskit/wskit";
import type { Protocol } from "@wskit/wskit/protocol";
import { sessions } from "@wskit/wskit/session";
import { config, ready } from "./_control.ts";

const { mode, port } = config();

/** The events scenario's protocol: one event each way, the payload a string. */
interface Events extends Protocol {
  clientEvents: { ping: string };
  serverEvents: { pong: string };
  clientRequests: Record<never, never>;
  serverRequests: Record<never, never>;
}

// sessions() starts nothing until a session connects: the other modes do not pay for it.
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
  session: sessions<Events>({ events: { ping: (session, d) => session.emit("pong", d) } }).hooks,
};

const server = await serve(hooks[mode], { hostname: "127.0.0.1", port });
ready(server.port);
