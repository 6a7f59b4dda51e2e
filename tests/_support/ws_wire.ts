/**
 * The WebSocket wire format by hand (RFC 6455), for the clients below the runtime's
 * `WebSocket`: the tests' raw connections (`./raw_ws.ts`), which send what no well-behaved
 * client would, and the benchmark's load client, which must cost far less per message than
 * the servers it measures (so headers are written into the caller's buffer, and frames are
 * handed out as offsets into the chunk that carried them).
 *
 * Clients always send the RFC's sample key, so the expected `Sec-WebSocket-Accept` is a
 * constant and no hashing is needed per connection; servers cannot tell (they only hash it).
 */

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The RFC 6455 section 1.3 sample key. */
export const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
/** The `Sec-WebSocket-Accept` that answers {@linkcode SAMPLE_KEY}. */
const SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/** Text frame (RFC 6455 section 5.2). */
export const OP_TEXT = 0x1;
/** Binary frame. */
export const OP_BINARY = 0x2;
/** Close frame. */
export const OP_CLOSE = 0x8;
/** Ping frame. */
export const OP_PING = 0x9;
/** Pong frame. */
export const OP_PONG = 0xa;

/** How a frame is built; by default a final, masked frame without reserved bits. */
export interface FrameOptions {
  /** The FIN bit. Default true. */
  fin?: boolean;
  /** The three reserved bits, as a number from 0 to 7. Default 0. */
  rsv?: number;
  /** Whether the frame is masked, as a client's must be. Default true. */
  mask?: boolean;
}

/** Size of a client frame carrying `payloadLength` bytes. */
export function clientFrameSize(payloadLength: number, mask = true): number {
  const ext = payloadLength < 126 ? 0 : payloadLength < 65536 ? 2 : 8;
  return 2 + ext + (mask ? 4 : 0) + payloadLength;
}

/**
 * Writes a frame header at `buf[at]` for a payload of `length` bytes. A masked header gets a
 * zero mask key (legal, and it leaves the payload as it is), so the payload is written after
 * it unchanged.
 *
 * @returns The offset where the payload goes.
 */
export function writeClientHeader(
  buf: Uint8Array,
  at: number,
  opcode: number,
  length: number,
  options?: FrameOptions,
): number {
  const mask = options?.mask ?? true;
  buf[at++] = ((options?.fin ?? true) ? 0x80 : 0) | ((options?.rsv ?? 0) << 4) | opcode;
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) {
    buf[at++] = maskBit | length;
  } else if (length < 65536) {
    buf[at++] = maskBit | 126;
    buf[at++] = length >>> 8;
    buf[at++] = length & 0xff;
  } else {
    buf[at++] = maskBit | 127;
    for (let shift = 56; shift >= 0; shift -= 8) buf[at++] = Math.floor(length / 2 ** shift) & 0xff;
  }
  if (mask) {
    buf[at++] = 0;
    buf[at++] = 0;
    buf[at++] = 0;
    buf[at++] = 0;
  }
  return at;
}

/** A complete client frame for `payload`, with a zero mask key (control frames, rare messages). */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(clientFrameSize(payload.length));
  out.set(payload, writeClientHeader(out, 0, opcode, payload.length));
  return out;
}

/**
 * A client frame as a browser would send it (masked with a random key unless `mask: false`),
 * or bent by `options` into one no client should send.
 */
export function frame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(),
  options: FrameOptions = {},
): Uint8Array {
  const data = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mask = options.mask ?? true;
  const out = new Uint8Array(clientFrameSize(data.length, mask));
  const at = writeClientHeader(out, 0, opcode, data.length, options);
  if (!mask) {
    out.set(data, at);
    return out;
  }
  const key = crypto.getRandomValues(new Uint8Array(4));
  out.set(key, at - 4);
  for (let i = 0; i < data.length; i++) out[at + i] = data[i]! ^ key[i & 3]!;
  return out;
}

/** A masked close frame with a code and reason. */
export function closeFrame(code: number, reason = ""): Uint8Array {
  const r = encoder.encode(reason);
  const payload = new Uint8Array(2 + r.length);
  new DataView(payload.buffer).setUint16(0, code);
  payload.set(r, 2);
  return frame(OP_CLOSE, payload);
}

/**
 * Length of the HTTP response head at the start of `buf`, its blank line included.
 *
 * @returns 0 while the head is incomplete.
 * @throws {Error} When the head grows past 8 KiB without ending.
 */
function responseHeadLength(buf: Uint8Array): number {
  for (let i = 3; i < buf.length; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  if (buf.length > 8192) throw new Error("Cannot upgrade: response head over 8 KiB");
  return 0;
}

/**
 * Reads the handshake response at the start of `buf`.
 *
 * @returns The length of the response head when complete and valid, 0 while incomplete.
 * @throws {Error} When the server refused the upgrade or answered with a wrong accept key.
 */
export function handshakeResponse(buf: Uint8Array): number {
  const end = responseHeadLength(buf);
  if (end === 0) return 0;
  const head = decoder.decode(buf.subarray(0, end - 4));
  const status = head.slice(0, head.indexOf("\r\n"));
  if (!/^HTTP\/1\.1 101 /.test(status)) throw new Error(`Cannot upgrade: ${status}`);
  const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
  if (accept !== SAMPLE_ACCEPT) {
    throw new Error(`Cannot upgrade: wrong Sec-WebSocket-Accept ${accept}`);
  }
  return end;
}

/** Receives the frames the parser finds; the payload is `buf[start, end)`, valid during the call. */
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
