/**
 * Hostile session frames, generated: random and mutated valid frames with every
 * `Object.prototype` name as event, request and room name, huge and empty strings, wrong
 * JSON types, deep nesting and numbers at the edges. Seeded, so that a failure can be
 * replayed with the seed it prints.
 */

/** A small seeded generator (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INHERITED = Object.getOwnPropertyNames(Object.prototype);
const EDGE_NUMBERS = [
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
];

/** Frames for one connection (the server numbers them; a client cannot). */
export class FrameMaker {
  #rand: () => number;
  /** Big strings, made once. */
  #huge = ["h".repeat(64 * 1024), "\u{1F600}".repeat(20_000), "\u202e\u200b".repeat(5_000)];

  constructor(rand: () => number) {
    this.#rand = rand;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#rand() * items.length)]!;
  }

  #chance(p: number): boolean {
    return this.#rand() < p;
  }

  /** A name a client might choose: ordinary, inherited, empty, huge, odd. */
  name(): string {
    const r = this.#rand();
    if (r < 0.3) return this.#pick(INHERITED);
    if (r < 0.5) return this.#pick(["echo", "say", "r", "room"]);
    if (r < 0.6) return "";
    if (r < 0.65) return this.#pick(this.#huge);
    if (r < 0.8) return this.#pick(["\u0000", "a/b", "wskit/room/x", "__proto__", "😀", " "]);
    return Math.floor(this.#rand() * 1e6).toString(36);
  }

  /** A value of any JSON type, sometimes deep. */
  value(depth = 0): unknown {
    const r = this.#rand();
    if (depth > 4 || r < 0.3) return this.#pick(EDGE_NUMBERS);
    if (r < 0.45) return this.name();
    if (r < 0.5) return this.#pick([null, true, false]);
    if (r < 0.6) {
      return Array.from({ length: Math.floor(this.#rand() * 4) }, () => this.value(depth + 1));
    }
    if (r < 0.65) return { $bytes: "AAEC" };
    const out: Record<string, unknown> = {};
    for (let i = Math.floor(this.#rand() * 4); i > 0; i--) {
      out[this.name().slice(0, 20)] = this.value(depth + 1);
    }
    return out;
  }

  /** A frame that reads as the protocol's (possibly hostile in its names and values). */
  valid(): string {
    const r = this.#rand();
    const bytes = this.#chance(0.1);
    if (r < 0.35) return JSON.stringify([bytes ? "E" : "e", this.name(), this.value()]);
    if (r < 0.65) {
      const name = this.#chance(0.3) ? "echo" : this.name();
      return JSON.stringify([bytes ? "R" : "r", name, this.value()]);
    }
    if (r < 0.8) return JSON.stringify(["j", this.name()]);
    if (r < 0.85) return JSON.stringify(["l", this.name()]);
    const int = () => this.#pick([0, 1, 7, 2 ** 31, Number.MAX_SAFE_INTEGER]);
    if (r < 0.89) return JSON.stringify(["a", int(), this.value()]);
    if (r < 0.92) return JSON.stringify(["x", int(), this.value()]);
    return JSON.stringify(["g", this.name(), [this.name().slice(0, 30), int()]]);
  }

  /**
   * A frame the server must refuse, which ends the connection: mutated, garbage, deeply
   * nested, of the wrong shape or type, or numbered by the client.
   */
  fatal(): string {
    const r = this.#rand();
    if (r < 0.3) return this.#mutate(this.valid());
    if (r < 0.4) return "[".repeat(20_000) + "]".repeat(20_000);
    if (r < 0.5) return JSON.stringify({ t: "e", q: 1, e: "say" });
    if (r < 0.6) return JSON.stringify(["e", this.value()]);
    if (r < 0.65) return JSON.stringify(this.value());
    if (r < 0.7) return JSON.stringify(["R", "echo", { $bytes: "not base64!" }]);
    return this.#pick([
      "",
      "[",
      "null",
      "[]",
      "[5]",
      '["Z"]',
      '["j"]',
      '["a","1"]',
      '["g","r","bad"]',
      '{"t":"hello","v":3}',
      "\ud800",
    ]);
  }

  #mutate(text: string): string {
    const i = Math.floor(this.#rand() * text.length);
    const r = this.#rand();
    if (r < 0.4) return text.slice(0, i) + text.slice(i + 1);
    if (r < 0.7) {
      return text.slice(0, i) + String.fromCharCode(Math.floor(this.#rand() * 128)) + text.slice(i);
    }
    return text.slice(0, i);
  }
}
