/**
 * The reconnecting client's outbox: messages sent while the link is down, kept in order up
 * to a count and a byte size, and flushed after the reconnect. Internal.
 *
 * @module
 */

import { utf8Length } from "../_utf8.ts";
import type { OutgoingData } from "./options.ts";

/** Messages waiting for the link, bounded. */
export class Outbox {
  #items: { data: OutgoingData; size: number }[] = [];
  #bytes = 0;
  #maxCount: number;
  #maxBytes: number;

  constructor(maxCount: number, maxBytes: number) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
  }

  /** Messages waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps a copy of `data`.
   *
   * @returns `false` when it does not fit the bounds.
   * @throws {TypeError} When `data` is neither text, bytes nor a `Blob`.
   */
  push(data: OutgoingData): boolean {
    const size = byteSize(data);
    if (this.#items.length + 1 > this.#maxCount || this.#bytes + size > this.#maxBytes) {
      return false;
    }
    this.#items.push({ data: snapshot(data), size });
    this.#bytes += size;
    return true;
  }

  /** Takes the oldest message, if any. */
  shift(): OutgoingData | undefined {
    const item = this.#items.shift();
    if (!item) return undefined;
    this.#bytes -= item.size;
    return item.data;
  }

  /** Takes everything, in order. */
  drain(): OutgoingData[] {
    const left = this.#items.map((m) => m.data);
    this.#items = [];
    this.#bytes = 0;
    return left;
  }
}

/**
 * The size a message takes in the outbox: UTF-8 bytes for text.
 *
 * @throws {TypeError} For anything `WebSocket.send` would not take.
 */
export function byteSize(data: OutgoingData): number {
  if (typeof data === "string") return utf8Length(data);
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (typeof SharedArrayBuffer !== "undefined" && data instanceof SharedArrayBuffer) {
    return data.byteLength;
  }
  if (typeof Blob !== "undefined" && data instanceof Blob) return data.size;
  const kind = data === null
    ? "null"
    : typeof data === "object"
    ? (data as object).constructor?.name ?? "object"
    : typeof data;
  throw new TypeError(`Cannot send: expected a string, bytes or a Blob, got ${kind}`);
}

/** A copy of mutable bytes, so that what goes out later is what was sent now. */
function snapshot(data: OutgoingData): OutgoingData {
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  if (typeof data === "string" || (typeof Blob !== "undefined" && data instanceof Blob)) {
    return data;
  }
  return (data as ArrayBuffer).slice(0);
}
