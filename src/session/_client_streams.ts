/**
 * The client's view of its streams (its own, and each room's): every frame delivered once,
 * in offset order. A frame that arrives ahead of its turn (two instances published at once,
 * and the relay raced the local path) waits for the ones before it; a gap that does not
 * close by itself is filled from the server's store, or declared lost, never skipped.
 * Internal to `SessionClient`.
 *
 * @module
 */

import type { Position } from "./wire.ts";

/** What the streams need from the client. */
export interface StreamHost<F> {
  /** Handles a frame, in its turn. */
  deliver(frame: F): void;
  /** Asks the server for the entries of `stream` after `from`. */
  fill(stream: string, from: Position): void;
  /** Entries of `stream` are gone for good: the application must resynchronize. */
  lost(stream: string): void;
  /** Too much is held, or a fill went unanswered: start over with a resume. */
  stuck(why: string): void;
}

interface Stream<F> {
  /** The last offset delivered, once known. */
  pos: Position | undefined;
  /** A join is in flight: frames wait for its answer, which says where to start. */
  awaiting: boolean;
  /** Frames ahead of their turn, by offset. */
  held: Map<number, F>;
  /** The highest offset known to exist. */
  known: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A fill was asked for and not answered yet. */
  filling: boolean;
}

/** Per-stream order, positions and gap filling for one client. */
export class Streams<F> {
  /** The epoch of the server's store, from the last welcome. */
  epoch = "";
  #streams = new Map<string, Stream<F>>();
  #held = 0;
  #host: StreamHost<F>;
  #gapTimeout: number;
  #maxHeld: number;

  constructor(host: StreamHost<F>, gapTimeout: number, maxHeld: number) {
    this.#host = host;
    this.#gapTimeout = gapTimeout;
    this.#maxHeld = maxHeld;
  }

  #get(name: string): Stream<F> {
    let stream = this.#streams.get(name);
    if (!stream) {
      stream = {
        pos: undefined,
        awaiting: false,
        held: new Map(),
        known: 0,
        timer: undefined,
        filling: false,
      };
      this.#streams.set(name, stream);
    }
    return stream;
  }

  /** The positions to resume from. */
  positions(): Record<string, Position> {
    // Own properties whatever the room is called: assigning `__proto__` would set the prototype.
    const out: [string, Position][] = [];
    for (const [name, s] of this.#streams) if (s.pos) out.push([name, [s.pos[0], s.pos[1]]]);
    return Object.fromEntries(out);
  }

  /** Starts over from the server's positions (a new session, or one not recovered). */
  reset(positions: Record<string, Position>): void {
    const awaiting = [...this.#streams].filter(([, s]) => s.awaiting).map(([name]) => name);
    this.clear();
    this.#streams.clear();
    for (const [name, pos] of Object.entries(positions)) this.#get(name).pos = [pos[0], pos[1]];
    for (const name of awaiting) this.expect(name);
  }

  /**
   * The server's store lost its history: every stream starts over in `epoch`, from 0.
   *
   * @returns Whether anything changed.
   */
  restart(epoch: string): boolean {
    if (epoch === this.epoch) return false;
    this.epoch = epoch;
    this.clear();
    for (const s of this.#streams.values()) {
      if (s.pos) s.pos = [epoch, 0];
      s.known = 0;
    }
    return true;
  }

  /** Drops what is held and every timer (the connection is gone; a resume replays it). */
  clear(): void {
    for (const s of this.#streams.values()) {
      clearTimeout(s.timer);
      s.timer = undefined;
      s.held.clear();
      s.filling = false;
      s.known = s.pos?.[1] ?? 0;
    }
    this.#held = 0;
  }

  /** A join of `name` is in flight: hold its frames until {@linkcode base}. */
  expect(name: string): void {
    const s = this.#get(name);
    if (!s.pos) s.awaiting = true;
  }

  /** The server said where a joined room stands: deliver what follows it. */
  base(name: string, pos: Position): void {
    const s = this.#get(name);
    s.awaiting = false;
    if (!s.pos || s.pos[0] !== pos[0] || s.pos[1] < pos[1]) s.pos = [pos[0], pos[1]];
    for (const o of [...s.held.keys()]) {
      if (o <= s.pos[1]) this.#unhold(s, o);
    }
    this.#drain(s);
    this.#check(name, s);
  }

  /** Forgets a stream (a room left, or a join refused). */
  forget(name: string): void {
    const s = this.#streams.get(name);
    if (!s) return;
    clearTimeout(s.timer);
    this.#held -= s.held.size;
    this.#streams.delete(name);
  }

  /** A frame at `offset` of stream `name`: delivered now, held for its turn, or dropped. */
  offer(name: string, offset: number, frame: F): void {
    const s = this.#get(name);
    if (!s.pos) {
      if (s.awaiting) return this.#hold(s, offset, frame);
      // A stream the server joined us to: it starts with the first frame seen.
      s.pos = [this.epoch, offset - 1];
    }
    if (offset <= s.pos[1]) return; // seen already
    if (offset === s.pos[1] + 1) {
      s.pos[1] = offset;
      this.#host.deliver(frame);
      this.#drain(s);
    } else {
      this.#hold(s, offset, frame);
    }
    this.#check(name, s);
  }

  /** The server says stream `name` has entries up to `offset`. */
  hint(name: string, offset: number): void {
    const s = this.#streams.get(name);
    if (!s || !s.pos) return;
    this.#answered(s);
    if (offset > s.known) s.known = offset;
    this.#check(name, s);
  }

  /** The server cannot replay what `name` lacks up to `offset`: go on after it. */
  lost(name: string, offset: number): void {
    const s = this.#streams.get(name);
    if (!s || !s.pos) return;
    this.#answered(s);
    const offsets = [...s.held.keys()].sort((a, b) => a - b);
    for (const o of offsets) {
      const frame = s.held.get(o)!;
      this.#unhold(s, o);
      if (o > s.pos[1]) {
        s.pos[1] = o;
        this.#host.deliver(frame);
      }
    }
    if (offset > s.pos[1]) s.pos[1] = offset;
    this.#check(name, s);
    this.#host.lost(name);
  }

  #hold(s: Stream<F>, offset: number, frame: F): void {
    if (s.held.has(offset)) return;
    if (this.#held >= this.#maxHeld) {
      return this.#host.stuck(`more than ${this.#maxHeld} frames out of order`);
    }
    s.held.set(offset, frame);
    this.#held++;
    if (offset > s.known) s.known = offset;
  }

  #unhold(s: Stream<F>, offset: number): void {
    if (s.held.delete(offset)) this.#held--;
  }

  #drain(s: Stream<F>): void {
    const pos = s.pos!;
    for (let next = s.held.get(pos[1] + 1); next !== undefined; next = s.held.get(pos[1] + 1)) {
      this.#unhold(s, pos[1] + 1);
      pos[1]++;
      this.#host.deliver(next);
    }
  }

  /** A fill was answered (or made moot): wait afresh for what may still be missing. */
  #answered(s: Stream<F>): void {
    s.filling = false;
    if (s.timer === undefined) return;
    clearTimeout(s.timer);
    s.timer = undefined;
  }

  /** Waits for a gap to close by itself, then asks for it; stops waiting once it closed. */
  #check(name: string, s: Stream<F>): void {
    const pos = s.pos;
    if (!pos || s.known <= pos[1]) return this.#answered(s);
    if (s.timer !== undefined) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (!s.pos || s.known <= s.pos[1] || this.#streams.get(name) !== s) return;
      s.filling = true;
      this.#host.fill(name, [s.pos[0], s.pos[1]]);
      // Checked again after a while: an unanswered fill means the connection is not well.
      s.timer = setTimeout(() => {
        s.timer = undefined;
        if (s.filling && this.#streams.get(name) === s) this.#host.stuck("a fill went unanswered");
      }, Math.max(this.#gapTimeout * 20, 5000));
    }, this.#gapTimeout);
  }
}
