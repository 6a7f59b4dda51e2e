/**
 * WebSocket below the runtime's client: a hand-made handshake and hand-made frames over raw
 * TCP, for tests that must send what no well-behaved client would, or stop reading.
 */

import { connectTcp, type TcpConn, upgradeRequest } from "./_tcp.ts";
import { deferred, within } from "./_wait.ts";

/** A frame read from the server. */
export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

const encoder = new TextEncoder();

/** Builds one client frame (masked unless `mask: false`). */
export function frame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(),
  options: { fin?: boolean; rsv?: number; mask?: boolean } = {},
): Uint8Array {
  const data = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mask = options.mask ?? true;
  const len = data.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + (mask ? 4 : 0) + len);
  out[0] = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode;
  out[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (ext === 2) view.setUint16(2, len);
  if (ext === 8) view.setBigUint64(2, BigInt(len));
  let off = 2 + ext;
  if (mask) {
    const key = crypto.getRandomValues(new Uint8Array(4));
    out.set(key, off);
    off += 4;
    for (let i = 0; i < len; i++) out[off + i] = data[i]! ^ key[i & 3]!;
  } else {
    out.set(data, off);
  }
  return out;
}

/** A close frame with a code and reason. */
export function closeFrame(code: number, reason = ""): Uint8Array {
  const r = encoder.encode(reason);
  const payload = new Uint8Array(2 + r.length);
  new DataView(payload.buffer).setUint16(0, code);
  payload.set(r, 2);
  return frame(8, payload);
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
  let buf = new Uint8Array(0);
  let handshake = "";
  const upgraded = deferred<void>();
  conn.onData((chunk) => {
    const next = new Uint8Array(buf.length + chunk.length);
    next.set(buf);
    next.set(chunk, buf.length);
    buf = next;
    if (!handshake) {
      const text = new TextDecoder().decode(buf);
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      handshake = text.slice(0, end);
      buf = buf.slice(encoder.encode(text.slice(0, end + 4)).length);
      if (handshake.startsWith("HTTP/1.1 101")) upgraded.resolve();
      else upgraded.reject(new Error(`Upgrade refused: ${handshake.split("\r\n")[0]}`));
    }
    while (buf.length >= 2) {
      const len7 = buf[1]! & 0x7f;
      const ext = len7 < 126 ? 0 : len7 === 126 ? 2 : 8;
      if (buf.length < 2 + ext) return;
      const view = new DataView(buf.buffer, buf.byteOffset);
      const len = ext === 0 ? len7 : ext === 2 ? view.getUint16(2) : Number(view.getBigUint64(2));
      if (buf.length < 2 + ext + len) return;
      frames.push({
        fin: (buf[0]! & 0x80) !== 0,
        opcode: buf[0]! & 0x0f,
        payload: buf.slice(2 + ext, 2 + ext + len),
      });
      buf = buf.slice(2 + ext + len);
    }
  });
  conn.closed.then(() => upgraded.reject(new Error("Connection closed during the handshake")));
  conn.write(upgradeRequest(path, headers));
  await within(upgraded.promise, "the 101 response");
  return {
    conn,
    frames,
    handshake,
    write: (bytes) => conn.write(bytes),
    closeCode() {
      const close = frames.find((f) => f.opcode === 8);
      if (!close || close.payload.length < 2) return undefined;
      return (close.payload[0]! << 8) | close.payload[1]!;
    },
  };
}
