/**
 * The load client's 32-byte test payload, `CCCCCC:SSSSSSSSSS:abcdefghijklmn`: a connection
 * number in 6 digits and a sequence number in 10, then filler, so that every byte of every
 * echo and delivery can be checked.
 *
 * @module
 */

/** Length of the test payload. */
export const PAYLOAD_SIZE = 32;
/** Filler after the two numbers, so that every payload byte is checked, not just the digits. */
const FILLER = new TextEncoder().encode("abcdefghijklmn");

/** Writes the test payload for `conn` and `seq` at `buf[at]`. */
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
  return payloadConn(buf, at) === conn && payloadSeq(buf, at) === seq && payloadFrameOk(buf, at);
}
