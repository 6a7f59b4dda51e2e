/**
 * The subset of RESP2 (the Redis protocol) the relay and the store need: commands encoded,
 * replies parsed however the bytes are split. Internal.
 *
 * @module
 */

/** A reply: simple strings as string, bulk strings as bytes, integers, arrays, nil. */
export type RespValue = string | number | null | Uint8Array | RespValue[];

/** An error reply from Redis, or a connection that could not carry a command. */
export class RespError extends Error {
  /**
   * Whether the connection failed rather than Redis refusing the command: the command may
   * or may not have run, and may be sent again once Redis is back.
   */
  readonly transient: boolean;

  /** Creates the error from Redis's message, or from what happened to the connection. */
  constructor(message: string, transient = false) {
    super(message);
    this.name = "RespError";
    this.transient = transient;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = encoder.encode("\r\n");

/** Encodes a command as an array of bulk strings. */
export function encodeCommand(args: readonly (string | number | Uint8Array)[]): Uint8Array {
  return encodePrefix(args, args.length);
}

/**
 * Encodes the first arguments of a command of `count` arguments, to be completed by
 * {@linkcode withLast}: a command sent again and again with one changing argument (a
 * `PUBLISH` to one channel) encodes its fixed part once.
 */
export function encodePrefix(
  args: readonly (string | number | Uint8Array)[],
  count: number,
): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`*${count}\r\n`)];
  for (const arg of args) pushBulk(parts, arg);
  return concat(parts);
}

/** A command: a prefix from {@linkcode encodePrefix} and its last argument. */
export function withLast(prefix: Uint8Array, last: string | number | Uint8Array): Uint8Array {
  const parts = [prefix];
  pushBulk(parts, last);
  return concat(parts);
}

/** Adds the parts of one bulk string: its length line, its bytes, CRLF. */
function pushBulk(parts: Uint8Array[], arg: string | number | Uint8Array): void {
  const bytes = arg instanceof Uint8Array ? arg : encoder.encode(String(arg));
  parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, CRLF);
}

/** The bytes of `parts`, one after the other. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Reads RESP values out of a growing byte buffer. */
export class RespParser {
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;

  /** Adds bytes that arrived. */
  push(chunk: Uint8Array): void {
    if (this.#pos >= this.#buf.length) {
      // Everything before was read: the usual case, and no copy.
      this.#buf = chunk;
      this.#pos = 0;
      return;
    }
    const rest = this.#buf.subarray(this.#pos);
    const next = new Uint8Array(rest.length + chunk.length);
    next.set(rest);
    next.set(chunk, rest.length);
    this.#buf = next;
    this.#pos = 0;
  }

  /**
   * The next complete value.
   *
   * @returns The value (a `RespError` for an error reply), or `undefined` when incomplete.
   */
  next(): RespValue | RespError | undefined {
    const start = this.#pos;
    const value = this.#value();
    if (value === undefined) this.#pos = start;
    return value;
  }

  #line(): string | undefined {
    const end = this.#buf.indexOf(13, this.#pos);
    if (end < 0 || end + 1 >= this.#buf.length) return undefined;
    const line = decoder.decode(this.#buf.subarray(this.#pos, end));
    this.#pos = end + 2;
    return line;
  }

  /** The integer of a `$` or `*` header line, read from the bytes; `undefined` if incomplete. */
  #int(): number | undefined {
    const buf = this.#buf;
    let i = this.#pos;
    const negative = buf[i] === 45;
    if (negative) i++;
    let n = 0;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === 13) break;
      if (c < 48 || c > 57) throw new RespError("Cannot read the reply: a bad length");
      n = n * 10 + c - 48;
    }
    if (i + 1 >= buf.length) return undefined;
    this.#pos = i + 2;
    return negative ? -n : n;
  }

  #value(): RespValue | RespError | undefined {
    if (this.#pos >= this.#buf.length) return undefined;
    const type = this.#buf[this.#pos++];
    if (type === 36 || type === 42) return this.#sized(type);
    const line = this.#line();
    if (line === undefined) return undefined;
    switch (type) {
      case 43: // +
        return line;
      case 45: // -
        // A Redis loading its data after a restart (or busy, or failing over) refuses commands
        // for a while: they may be sent again, as after a lost connection.
        return new RespError(line, /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b/.test(line));
      case 58: // :
        return Number(line);
      default:
        throw new RespError(`Cannot read the reply: unknown type byte ${type}`);
    }
  }

  /** A bulk string (`$`) or an array (`*`), after its type byte. */
  #sized(type: number): RespValue | undefined {
    const count = this.#int();
    if (count === undefined) return undefined;
    if (count < 0) return null;
    if (type === 36) {
      if (this.#pos + count + 2 > this.#buf.length) return undefined;
      const bytes = this.#buf.slice(this.#pos, this.#pos + count);
      this.#pos += count + 2;
      return bytes;
    }
    const items: RespValue[] = [];
    for (let i = 0; i < count; i++) {
      const item = this.#value();
      if (item === undefined) return undefined;
      items.push(item instanceof RespError ? item.message : item);
    }
    return items;
  }
}

const MESSAGE = encoder.encode("message");

/** Whether a reply is a subscribed connection's `message` push: `["message", channel, data]`. */
export function isMessage(reply: RespValue | RespError): reply is RespValue[] {
  if (!Array.isArray(reply) || reply.length !== 3) return false;
  const kind = reply[0];
  if (!(kind instanceof Uint8Array) || kind.length !== MESSAGE.length) return false;
  for (let i = 0; i < MESSAGE.length; i++) if (kind[i] !== MESSAGE[i]) return false;
  return true;
}

/** Text of a bulk-string reply. */
export function text(value: RespValue | undefined): string {
  if (value instanceof Uint8Array) return decoder.decode(value);
  return value === null || value === undefined ? "" : String(value);
}
