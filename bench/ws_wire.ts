/**
 * The WebSocket wire format, as much of it as the load client needs: the opening handshake,
 * masked client frames written into a caller's buffer, an incremental parser of server frames,
 * and the 32-byte test payload that carries a connection number and a sequence number.
 *
 * The client always uses the RFC 6455 sample key, so the expected `Sec-WebSocket-Accept` is a
 * constant and no hashing is needed per connection; servers cannot tell (they only hash it).
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The RFC 6455 section 1.3 sample key and its accept value. */
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/** Opcodes of RFC 6455 section 5.2. */
export const OP_TEXT = 0x1;
/** Binary frame. */
export const OP_BINARY = 0x2;
/** Close frame. */
export const OP_CLOSE = 0x8;
/** Ping frame. */
export const OP_PING = 0x9;
/** Pong frame. */
export const OP_PONG = 0xa;

/** The upgrade request for `path` on `host:port`. */
export function handshakeRequest(host: string, port: number, path: string): Uint8Array {
  return encoder.encode(
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
}

/**
 * Reads the handshake response at the start of `buf`.
 *
 * @returns The length of the response head when complete and valid, 0 when more bytes are
 * needed.
 * @throws {Error} When the server refused the upgrade or answered with a wrong accept key.
 */
export function handshakeResponse(buf: Uint8Array): number {
  let end = -1;
  for (let i = 3; i < buf.length; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) {
      end = i + 1;
      break;
    }
  }
  if (end < 0) {
    if (buf.length > 8192) throw new Error("Cannot upgrade: response head over 8 KiB");
    return 0;
  }
  const head = decoder.decode(buf.subarray(0, end));
  const status = head.slice(0, head.indexOf("\r\n"));
  if (!/^HTTP\/1\.1 101 /.test(status)) throw new Error(`Cannot upgrade: ${status}`);
  const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
  if (accept !== ACCEPT) throw new Error(`Cannot upgrade: wrong Sec-WebSocket-Accept ${accept}`);
  return end;
}

/** Size of a masked client frame carrying `payloadLength` bytes. */
export function clientFrameSize(payloadLength: number): number {
  return (payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10) + 4 + payloadLength;
}

/**
 * Writes a masked client frame header at `buf[at]` for a payload of `length` bytes. The mask
 * key is zero (legal, and it leaves the payload as it is), so the payload is written after it
 * unchanged.
 *
 * @returns The offset where the payload goes.
 */
export function writeClientHeader(
  buf: Uint8Array,
  at: number,
  opcode: number,
  length: number,
): number {
  buf[at++] = 0x80 | opcode;
  if (length < 126) {
    buf[at++] = 0x80 | length;
  } else if (length < 65536) {
    buf[at++] = 0x80 | 126;
    buf[at++] = length >>> 8;
    buf[at++] = length & 0xff;
  } else {
    buf[at++] = 0x80 | 127;
    for (let shift = 56; shift >= 0; shift -= 8) {
      buf[at++] = shift >= 32 ? 0 : (length >>> shift) & 0xff;
    }
  }
  buf[at++] = 0;
  buf[at++] = 0;
  buf[at++] = 0;
  buf[at++] = 0;
  return at;
}

/** A complete client frame for `payload` (control frames, rare messages). */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(clientFrameSize(payload.length));
  out.set(payload, writeClientHeader(out, 0, opcode, payload.length));
  return out;
}

/** Receives the frames the parser finds; `payload` is `buf[start, end)`. */
export type FrameSink = (
  opcode: number,
  fin: boolean,
  buf: Uint8Array,
  start: number,
  end: number,
) => void;

/** Incremental parser of server frames (unmasked) for one connection. */
export class FrameParser {
  #rest: Uint8Array | null = null;

  /**
   * Parses `chunk` (after any bytes left over from the previous chunk) and hands each
   * complete frame to `sink`.
   *
   * @throws {Error} On a masked server frame or a payload over 2^32 bytes.
   */
  push(chunk: Uint8Array, sink: FrameSink): void {
    let buf = chunk;
    if (this.#rest) {
      buf = new Uint8Array(this.#rest.length + chunk.length);
      buf.set(this.#rest);
      buf.set(chunk, this.#rest.length);
      this.#rest = null;
    }
    const n = buf.length;
    let at = 0;
    while (n - at >= 2) {
      const b0 = buf[at]!, b1 = buf[at + 1]!;
      if (b1 & 0x80) throw new Error("Protocol error: the server masked a frame");
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (n - at < 4) break;
        len = (buf[at + 2]! << 8) | buf[at + 3]!;
        head = 4;
      } else if (len === 127) {
        if (n - at < 10) break;
        if (buf[at + 2]! | buf[at + 3]! | buf[at + 4]! | buf[at + 5]!) {
          throw new Error("Protocol error: a frame over 4 GiB");
        }
        len = ((buf[at + 6]! << 24) | (buf[at + 7]! << 16) | (buf[at + 8]! << 8) |
          buf[at + 9]!) >>> 0;
        head = 10;
      }
      if (n - at < head + len) break;
      sink(b0 & 0x0f, (b0 & 0x80) !== 0, buf, at + head, at + head + len);
      at += head + len;
    }
    if (at < n) this.#rest = buf.slice(at);
  }
}

/** Length of the test payload. */
export const PAYLOAD_SIZE = 32;
/** Filler after the two numbers, so that every payload byte is checked, not just the digits. */
const FILLER = encoder.encode("abcdefghijklmn");

/**
 * Writes the 32-byte ASCII test payload `CCCCCC:SSSSSSSSSS:abcdefghijklmn` (connection
 * number in 6 digits, sequence number in 10) at `buf[at]`.
 */
export function writePayload(buf: Uint8Array, at: number, conn: number, seq: number): void {
  let v = conn;
  for (let i = at + 5; i >= at; i--) {
    buf[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  buf[at + 6] = 58;
  v = seq;
  for (let i = at + 16; i >= at + 7; i--) {
    buf[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  buf[at + 17] = 58;
  buf.set(FILLER, at + 18);
}

/** Reads the connection number of a test payload at `buf[at]`, or -1 when it is malformed. */
export function payloadConn(buf: Uint8Array, at: number): number {
  return digits(buf, at, 6);
}

/** Reads the sequence number of a test payload at `buf[at]`, or -1 when it is malformed. */
export function payloadSeq(buf: Uint8Array, at: number): number {
  return digits(buf, at + 7, 10);
}

function digits(buf: Uint8Array, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Advances the sequence number of the payload at `buf[at]` by one, in place. */
export function nextPayload(buf: Uint8Array, at: number): void {
  for (let i = at + 16; i >= at + 7; i--) {
    if (buf[i] !== 57) {
      buf[i]!++;
      return;
    }
    buf[i] = 48;
  }
}

/** Whether `a[aAt, aAt + n)` and `b[bAt, bAt + n)` hold the same bytes. */
export function bytesEqual(
  a: Uint8Array,
  aAt: number,
  b: Uint8Array,
  bAt: number,
  n: number,
): boolean {
  for (let i = 0; i < n; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

/**
 * Whether the bytes of a test payload at `buf[at]` other than its two numbers are right (for
 * a caller that has already read and checked the numbers).
 */
export function payloadFrameOk(buf: Uint8Array, at: number): boolean {
  if (buf[at + 6] !== 58 || buf[at + 17] !== 58) return false;
  for (let i = 0; i < FILLER.length; i++) if (buf[at + 18 + i] !== FILLER[i]) return false;
  return true;
}

/** Whether `buf[at, at + 32)` equals the payload for `conn` and `seq`, byte for byte. */
export function payloadEquals(buf: Uint8Array, at: number, conn: number, seq: number): boolean {
  if (payloadConn(buf, at) !== conn || payloadSeq(buf, at) !== seq) return false;
  if (buf[at + 6] !== 58 || buf[at + 17] !== 58) return false;
  for (let i = 0; i < FILLER.length; i++) if (buf[at + 18 + i] !== FILLER[i]) return false;
  return true;
}
