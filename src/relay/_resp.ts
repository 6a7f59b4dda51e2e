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
  const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = arg instanceof Uint8Array ? arg : encoder.encode(String(arg));
    parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, CRLF);
  }
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
  #buf = new Uint8Array(0);
  #pos = 0;

  /** Adds bytes that arrived. */
  push(chunk: Uint8Array): void {
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

  #value(): RespValue | RespError | undefined {
    if (this.#pos >= this.#buf.length) return undefined;
    const type = this.#buf[this.#pos++];
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
      case 36: { // $
        const length = Number(line);
        if (length < 0) return null;
        if (this.#pos + length + 2 > this.#buf.length) return undefined;
        const bytes = this.#buf.slice(this.#pos, this.#pos + length);
        this.#pos += length + 2;
        return bytes;
      }
      case 42: { // *
        const count = Number(line);
        if (count < 0) return null;
        const items: RespValue[] = [];
        for (let i = 0; i < count; i++) {
          const item = this.#value();
          if (item === undefined) return undefined;
          items.push(item instanceof RespError ? item.message : item);
        }
        return items;
      }
      default:
        throw new RespError(`Cannot read the reply: unknown type byte ${type}`);
    }
  }
}

/** Text of a bulk-string reply. */
export function text(value: RespValue | undefined): string {
  if (value instanceof Uint8Array) return decoder.decode(value);
  return value === null || value === undefined ? "" : String(value);
}
