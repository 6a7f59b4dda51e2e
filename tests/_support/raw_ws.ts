/**
 * WebSocket below the runtime's client: a hand-made handshake and hand-made frames
 * (`./ws_wire.ts`) over raw TCP, for tests that must send what no well-behaved client would,
 * or stop reading.
 */

import { connectTcp, type TcpConn, upgradeRequest } from "./tcp.ts";
import { deferred, within } from "./wait.ts";
import { FrameParser, handshakeResponse, OP_CLOSE } from "./ws_wire.ts";

/** A frame read from the server. */
export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** A raw WebSocket connection: the handshake done, frames parsed as they arrive. */
export interface RawWebSocket {
  conn: TcpConn;
  /** Frames received so far. */
  frames: ServerFrame[];
  /** The status line and headers of the handshake response. */
  handshake: string;
  /** Sends raw bytes. */
  write(bytes: Uint8Array): void;
  /** The close frame's code, if the server sent one before the connection ended. */
  closeCode(): number | undefined;
}

/**
 * Connects, sends an upgrade request and waits for `101`.
 *
 * @throws {Error} When the server answers anything else.
 */
export async function rawWebSocket(
  port: number,
  path = "/",
  headers: Record<string, string> = {},
): Promise<RawWebSocket> {
  const conn = await connectTcp(port);
  const frames: ServerFrame[] = [];
  const parser = new FrameParser();
  let head: Uint8Array | undefined = new Uint8Array(0);
  let handshake = "";
  const upgraded = deferred<void>();
  conn.onData((chunk) => {
    try {
      if (head) {
        const buf = new Uint8Array(head.length + chunk.length);
        buf.set(head);
        buf.set(chunk, head.length);
        const end = handshakeResponse(buf);
        if (end === 0) {
          head = buf;
          return;
        }
        head = undefined;
        handshake = new TextDecoder().decode(buf.subarray(0, end - 4));
        upgraded.resolve();
        chunk = buf.subarray(end);
      }
      parser.push(chunk, (opcode, fin, buf, start, end) => {
        frames.push({ fin, opcode, payload: buf.slice(start, end) });
      });
    } catch (error) {
      // A refused upgrade, or a frame no server may send: the test sees it as the close.
      upgraded.reject(error);
      conn.close();
    }
  });
  conn.closed.then(() => upgraded.reject(new Error("Connection closed during the handshake")));
  conn.write(upgradeRequest(path, headers));
  try {
    await within(upgraded.promise, "the 101 response");
  } catch (error) {
    conn.close();
    throw error;
  }
  return {
    conn,
    frames,
    handshake,
    write: (bytes) => conn.write(bytes),
    closeCode() {
      const close = frames.find((f) => f.opcode === OP_CLOSE);
      if (!close || close.payload.length < 2) return undefined;
      return (close.payload[0]! << 8) | close.payload[1]!;
    },
  };
}
