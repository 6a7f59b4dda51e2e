/**
 * Socket.IO 4 as the load client speaks it in the events scenario: engine.io protocol 4 over
 * its WebSocket transport alone (`/socket.io/?EIO=4&transport=websocket`), Socket.IO
 * protocol 5 in its text packets. The server opens with `0{...}` (engine.io open), the client
 * connects the main namespace with `40` and the server confirms with `40{...}`; an event is
 * `42["ping",payload]` and its answer `42["pong",payload]` (with connection state recovery
 * the server appends the packet's offset: `42["pong",payload,"<offset>"]`). The server's
 * engine.io ping `2` is answered `3`.
 *
 * @module
 */

import type { WireIo } from "./session_wire.ts";

/** The Socket.IO wire: a server whose `ping` handler emits `pong` with the same payload. */
export const socketIoWire = {
  path: "/socket.io/?EIO=4&transport=websocket",
  headers: {} as Record<string, string>,
  /** The frames a client sends once upgraded: none, the server speaks first. */
  start(): string[] {
    return [];
  },
  /** An event carrying `payload` (Socket.IO numbers only acknowledged events). */
  event(payload: string): string {
    return `42${JSON.stringify(["ping", payload])}`;
  },
  /**
   * Reads one server frame.
   *
   * @returns The payload of an answer, or `undefined` for a frame that is not one.
   * @throws {Error} For a frame this scenario does not expect.
   */
  read(frame: string, io: WireIo): string | undefined {
    if (frame.startsWith("42")) {
      const [name, payload] = JSON.parse(frame.slice(2)) as unknown[];
      if (name === "pong" && typeof payload === "string") return payload;
    } else if (frame.startsWith("40")) {
      io.ready();
      return undefined;
    } else if (frame === "2") {
      io.send("3");
      return undefined;
    } else if (frame.startsWith("0{")) {
      io.send("40");
      return undefined;
    }
    throw new Error(`Unexpected Socket.IO frame: ${frame.slice(0, 80)}`);
  },
};
