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

/** Frames for one connection, numbering its sequenced frames as a client would. */
export class FrameMaker {
  #rand: () => number;
  #q = 0;
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

  /** The next sequence number, or (when `wrong`) one the server must refuse. */
  #seq(wrong = false): unknown {
    if (wrong) return this.#pick([this.#q + 5, -1, "1", null, 1.5, 2 ** 60]);
    if (this.#chance(0.03)) return this.#q; // a resend
    return ++this.#q;
  }

  /** Starts over for a new connection (a new session numbers from 1). */
  reset(): void {
    this.#q = 0;
  }

  /** A frame that reads as the protocol's (possibly hostile in its names and values). */
  valid(): Record<string, unknown> {
    const r = this.#rand();
    if (r < 0.35) return { t: "e", q: this.#seq(), e: this.name(), d: this.value() };
    if (r < 0.65) {
      return {
        t: "r",
        q: this.#seq(),
        e: this.#chance(0.3) ? "echo" : this.name(),
        d: this.value(),
      };
    }
    if (r < 0.8) return { t: "j", q: this.#seq(), r: this.name() };
    if (r < 0.85) return { t: "l", q: this.#seq(), r: this.name() };
    const int = () => this.#pick([0, 1, 7, 2 ** 31, Number.MAX_SAFE_INTEGER]);
    if (r < 0.92) return { t: "res", q: this.#seq(), i: int(), d: this.value(), err: this.value() };
    return { t: "g", s: this.name(), p: [this.name().slice(0, 30), int()] };
  }

  /**
   * A frame the server must refuse, which ends the connection: mutated, garbage, deeply
   * nested, of the wrong shape or out of sequence.
   */
  fatal(): string {
    const r = this.#rand();
    if (r < 0.3) return this.#mutate(JSON.stringify(this.valid()));
    if (r < 0.4) return "[".repeat(20_000) + "]".repeat(20_000);
    if (r < 0.5) return JSON.stringify({ t: "e", q: this.#seq(true), e: "say" });
    if (r < 0.6) return JSON.stringify({ t: "e", q: this.#q + 1, e: this.value() });
    if (r < 0.65) return JSON.stringify(this.value());
    if (r < 0.7) {
      return JSON.stringify({ t: "r", q: this.#q + 1, e: "echo", d: { $bytes: "not base64!" } });
    }
    return this.#pick(["", "{", "null", '{"t":5}', '{"t":"hello","v":2}', '{"t":"bye"}', "\ud800"]);
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
