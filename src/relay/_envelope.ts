/**
 * What relay drivers share: the envelope a publish travels in over a byte stream, and the
 * bounded buffer of publishes made while a link is down. Internal to the relay wing.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Heads remembered per packer or unpacker: a few topics carry most publishes. */
const HEADS = 256;

/**
 * Packs publishes for the wire: one line of JSON (origin, topic, kind), a newline, then the
 * data as it is (text as UTF-8, bytes untouched). The line of each recent topic is encoded
 * once.
 */
export class RelayPacker {
  #origin: string;
  #heads = new Map<string, Uint8Array>();

  /** A packer for the publishes of `origin`. */
  constructor(origin: string) {
    this.#origin = origin;
  }

  /** The bytes of one publish. */
  pack(topic: string, data: string | Uint8Array): Uint8Array {
    const text = typeof data === "string";
    const key = text ? topic : "\0" + topic;
    let head = this.#heads.get(key);
    if (!head) {
      if (this.#heads.size >= HEADS) this.#heads.clear();
      head = encoder.encode(JSON.stringify({ o: this.#origin, t: topic, b: text ? 0 : 1 }) + "\n");
      this.#heads.set(key, head);
    }
    const body = text ? encoder.encode(data) : data;
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    return out;
  }
}

/** A publish as {@linkcode RelayPacker} packed it. */
export interface Unpacked {
  origin: string;
  topic: string;
  data: string | Uint8Array;
}

type Head = { origin: string; topic: string; binary: boolean };
const heads = new Map<string, Head | null>();

/**
 * Unpacks what {@linkcode RelayPacker} made; the heads of recent topics are parsed once.
 *
 * @returns The origin, topic and data, or `undefined` for anything else.
 */
export function unpackRelay(bytes: Uint8Array): Unpacked | undefined {
  const nl = bytes.indexOf(10);
  if (nl < 0) return undefined;
  const line = decoder.decode(bytes.subarray(0, nl));
  let head = heads.get(line);
  if (head === undefined) {
    head = parseHead(line);
    if (heads.size >= HEADS) heads.clear();
    heads.set(line, head);
  }
  if (!head) return undefined;
  const body = bytes.subarray(nl + 1);
  return {
    origin: head.origin,
    topic: head.topic,
    data: head.binary ? body.slice() : decoder.decode(body),
  };
}

function parseHead(line: string): Head | null {
  try {
    const head = JSON.parse(line) as { o?: unknown; t?: unknown; b?: unknown };
    if (typeof head.o !== "string" || typeof head.t !== "string") return null;
    return { origin: head.o, topic: head.t, binary: Boolean(head.b) };
  } catch {
    return null;
  }
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
