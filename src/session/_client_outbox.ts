/**
 * The session client's outbox: every frame it sends keeps its sequence number (its place in
 * the session's order, which the server counts too) and stays here until the server
 * confirms it, bounded by count and bytes. Internal to `SessionClient`.
 *
 * @module
 */

import type { Unconfirmed } from "./client_events.ts";
import { RemoteError } from "./errors.ts";
import type { Waiter } from "./_requests.ts";

/** One frame to the server, sent or not, not yet confirmed. */
export interface Outgoing {
  q: number;
  /** The frame's text (its number is implicit: its place in the session's order). */
  text: string;
  t: "e" | "r" | "j" | "l" | "y" | "res";
  event: string;
  payload: unknown;
  size: number;
  sent: boolean;
  /** The request waiting for the answer, if this is a request. */
  pending?: Waiter;
}

/** Frames kept until confirmed, and the requests waiting for answers, by number. */
export class Outbox {
  items: Outgoing[] = [];
  bytes = 0;
  /** The last sequence number given out. */
  seq = 0;
  /** Requests by the number of their frame. */
  readonly pending = new Map<number, Waiter>();
  #maxCount: number;
  #maxBytes: number;

  constructor(maxCount: number, maxBytes: number) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
  }

  /**
   * Numbers and keeps a frame.
   *
   * @returns The frame, or `undefined` when it does not fit.
   */
  add(
    t: Outgoing["t"],
    event: string,
    payload: unknown,
    text: string,
    pending?: Waiter,
  ): Outgoing | undefined {
    const size = text.length;
    if (this.items.length >= this.#maxCount || this.bytes + size > this.#maxBytes) {
      return undefined;
    }
    const m: Outgoing = { q: ++this.seq, text, t, event, payload, size, sent: false };
    if (pending) {
      m.pending = pending;
      this.pending.set(m.q, pending);
    }
    this.items.push(m);
    this.bytes += size;
    return m;
  }

  /** The server has handled everything up to `q`. */
  confirm(q: number): void {
    let drop = 0;
    while (drop < this.items.length && this.items[drop]!.q <= q) {
      this.bytes -= this.items[drop]!.size;
      drop++;
    }
    if (drop > 0) this.items.splice(0, drop);
  }

  /** Forgets a request; never sent, it leaves the outbox and the rest is renumbered. */
  withdraw(entry: Waiter): void {
    for (const [q, p] of this.pending) {
      if (p === entry) this.pending.delete(q);
    }
    const index = this.items.findIndex((m) => m.pending === entry);
    if (index < 0 || this.items[index]!.sent) return;
    const [removed] = this.items.splice(index, 1);
    this.bytes -= removed!.size;
    this.renumber(index, removed!.q);
  }

  /** Replaces everything (a new session), numbered from 1. */
  replace(items: Outgoing[]): void {
    this.items = items;
    this.bytes = items.reduce((n, m) => n + m.size, 0);
    this.renumber(0, 1);
  }

  /** Forgets everything (closed for good). */
  clear(): void {
    this.items = [];
    this.bytes = 0;
    this.pending.clear();
  }

  /**
   * Numbers the (unsent) entries from `index` on from `first`; their pending requests move
   * to the new numbers.
   */
  renumber(index: number, first: number): void {
    const moved = this.items.slice(index);
    for (const m of moved) if (m.pending) this.pending.delete(m.q);
    let q = first;
    for (const m of moved) m.q = q++;
    for (const m of moved) if (m.pending) this.pending.set(m.q, m.pending);
    this.seq = q - 1;
  }

  /**
   * The server does not know this client's session (any more): what was sent to the lost one
   * may or may not have been handled (pushed to `unconfirmed`, its requests rejected); what
   * was never sent goes to the new session, after joining `rooms` again.
   */
  forNewSession(
    rooms: string[],
    unconfirmed: Unconfirmed[],
    joinText: (room: string) => string = (room) => `["j",${JSON.stringify(room)}]`,
  ): void {
    const lost = (message: string) => new RemoteError(message, { code: "session_lost" });
    const unsent: Outgoing[] = [];
    for (const m of this.items) {
      if (m.t === "res") continue; // an answer to the lost session's request: moot
      if (!m.sent) {
        unsent.push(m);
        continue;
      }
      this.pending.delete(m.q);
      // A join in flight is sent again below, with the other rooms and the latest presence.
      if (m.t === "j" || m.t === "y") {
        m.pending?.resolve(undefined);
        continue;
      }
      unconfirmed.push({ event: m.event, payload: m.payload });
      m.pending?.reject(lost(`Cannot confirm "${m.event}": the session was lost`));
    }
    // Requests confirmed but unanswered by the lost session will never be answered.
    const waiting = new Set(unsent.map((m) => m.pending));
    for (const p of this.pending.values()) {
      if (!waiting.has(p)) p.reject(lost("Cannot get an answer: the session was lost"));
    }
    this.pending.clear();
    const rejoin: Outgoing[] = [];
    for (const room of rooms) {
      if (unsent.some((m) => m.t === "j" && m.payload === room)) continue;
      const text = joinText(room);
      // Its answer says where the room stands; nobody else waits for it.
      const pending = { resolve() {}, reject() {}, room };
      rejoin.push({
        q: 0,
        text,
        t: "j",
        event: "$join",
        payload: room,
        size: text.length,
        sent: false,
        pending,
      });
    }
    this.replace([...rejoin, ...unsent]);
  }
}
