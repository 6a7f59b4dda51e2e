/**
 * The wskit session wire as the load client speaks it in the events scenario: the subprotocol
 * it offers, the `hello` it opens with, a `ping` event, and how it reads what the server sends
 * (the welcome, acks, and the `pong` events that are the answers). The version, subprotocol
 * and the reading come from `src/session/wire.ts`, the writing from the tests' own session
 * wire (`tests/_support/session_wire.ts`); this is the one place of the load client to follow
 * a change of the format.
 *
 * @module
 */

import { parseServerFrame, SUBPROTOCOL, VERSION } from "../../src/session/wire.ts";
import { clientFrame } from "../../tests/_support/session_wire.ts";

/** What a wire may do on a connection while reading a frame. */
export interface WireIo {
  /** Sends a text frame. */
  send(text: string): void;
  /** The connection is ready for events (the protocol's handshake is done). */
  ready(): void;
}

/** The wskit session wire: `sessions()` on the server, events `ping` and `pong`. */
export const sessionWire = {
  path: "/",
  headers: { "sec-websocket-protocol": SUBPROTOCOL } as Record<string, string>,
  /** The frames a client sends once upgraded. */
  start(): string[] {
    return [clientFrame({ t: "hello", v: VERSION })];
  },
  /** An event carrying `payload` (sequence numbers are implicit: the order on the session). */
  event(payload: string): string {
    return clientFrame({ t: "e", e: "ping", d: payload });
  },
  /**
   * Reads one server frame.
   *
   * @returns The payload of an answer, or `undefined` for a frame that is not one.
   * @throws {Error} For a frame this scenario does not expect.
   */
  read(frame: string, io: WireIo): string | undefined {
    const f = parseServerFrame(frame);
    switch (f?.t) {
      case "welcome":
        io.ready();
        return undefined;
      case "ack":
        return undefined;
      case "e":
        if (f.e === "pong" && f.s === undefined && typeof f.d === "string") return f.d;
    }
    throw new Error(`Unexpected session frame: ${frame.slice(0, 80)}`);
  },
};
