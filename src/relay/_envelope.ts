/**
 * What relay drivers share: the envelope a publish travels in over a byte stream, and the
 * bounded buffer of publishes made while a link is down. Internal to the relay wing.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Packs a publish for the wire: one line of JSON (origin, topic, kind), a newline, then the
 * data as it is (text as UTF-8, bytes untouched).
 */
export function packRelay(origin: string, topic: string, data: string | Uint8Array): Uint8Array {
  const head = encoder.encode(
    JSON.stringify({ o: origin, t: topic, b: typeof data === "string" ? 0 : 1 }) + "\n",
  );
  const body = typeof data === "string" ? encoder.encode(data) : data;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/**
 * Unpacks what {@linkcode packRelay} made.
 *
 * @returns The origin, topic and data, or `undefined` for anything else.
 */
export function unpackRelay(
  bytes: Uint8Array,
): { origin: string; topic: string; data: string | Uint8Array } | undefined {
  const nl = bytes.indexOf(10);
  if (nl < 0) return undefined;
  let head: { o?: unknown; t?: unknown; b?: unknown };
  try {
    head = JSON.parse(decoder.decode(bytes.subarray(0, nl)));
  } catch {
    return undefined;
  }
  if (typeof head.o !== "string" || typeof head.t !== "string") return undefined;
  const body = bytes.subarray(nl + 1);
  return { origin: head.o, topic: head.t, data: head.b ? body.slice() : decoder.decode(body) };
}

/** Options of an outage buffer. */
export interface OutageOptions {
  /**
   * Publishes kept while the link is down, sent in order once it is back.
   *
   * @default {10000}
   */
  maxBuffered?: number;
  /**
   * Bytes of those publishes.
   *
   * @default {8388608}
   */
  maxBufferedBytes?: number;
}

/**
 * The bounded buffer of publishes made while a relay's link is down: kept in order up to a
 * count and a byte size, past which they are dropped and counted.
 */
export class OutageBuffer {
  #items: Uint8Array[] = [];
  #bytes = 0;
  #max: number;
  #maxBytes: number;
  /** Publishes dropped because the buffer was full. */
  dropped = 0;

  /** Creates an empty buffer with the given bounds. */
  constructor(options: OutageOptions = {}) {
    this.#max = options.maxBuffered ?? 10_000;
    this.#maxBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  }

  /** Publishes waiting. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Keeps a packed publish.
   *
   * @returns `false` (and counts a drop) when it does not fit.
   */
  push(packed: Uint8Array): boolean {
    if (this.#items.length >= this.#max || this.#bytes + packed.length > this.#maxBytes) {
      this.dropped++;
      return false;
    }
    this.#items.push(packed);
    this.#bytes += packed.length;
    return true;
  }

  /** Takes everything, in order. */
  drain(): Uint8Array[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return items;
  }
}
