/**
 * The bare Deno subject: `Deno.serve` + `Deno.upgradeWebSocket`, with the room a `Set` and
 * broadcast a `for` loop of `send` (Deno has no native publish), the way Bun's
 * `chat-server.deno.mjs` does it. This is the ceiling wskit on Deno is measured against.
 *
 * @module
 */

import { config, ready } from "./_control.ts";

const { mode, port } = config();
const room = new Set<WebSocket>();

function upgrade(request: Request): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("Upgrade Required\n", { status: 426 });
  }
  const publisher = mode === "fanout" && new URL(request.url).searchParams.has("pub");
  const { socket, response } = Deno.upgradeWebSocket(request);
  if (mode === "echo") {
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  }
  if (mode === "chat" || publisher) {
    socket.onmessage = (event) => {
      for (const member of room) member.send(event.data);
    };
  }
  if (!publisher) {
    socket.onopen = () => room.add(socket);
    socket.onclose = () => room.delete(socket);
  }
  return response;
}

Deno.serve({ hostname: "127.0.0.1", port, onListen: (addr) => ready(addr.port) }, upgrade);
