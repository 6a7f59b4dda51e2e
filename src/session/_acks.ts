/**
 * Confirmations: a client frame is acknowledged only once handled and every store write it
 * made has succeeded (and, with a shared store, once the session's record says so), in
 * order and in batches; a failed write confirms nothing and starts over. Internal.
 *
 * @module
 */

import type { SessionStore } from "./store.ts";
import type { AnyProtocol } from "./types.ts";
import type { ServerSession } from "./_session.ts";

type AnySession<T> = ServerSession<AnyProtocol, T>;

const ACK_DELAY_MS = 10;
const ACK_EVERY = 64;

/** A store write failed: the frame it belonged to cannot be confirmed. */
export class StoreFailure extends Error {
  /** Wraps what the store threw. */
  constructor(cause: unknown) {
    super(
      `Cannot record the frame: the session store failed (${
        cause instanceof Error ? cause.message : String(cause)
      })`,
      { cause },
    );
    this.name = "StoreFailure";
  }
}

/** What confirmations need from the session machinery. */
export interface AckHost<T> {
  readonly store: SessionStore;
  readonly counts: { storeFailures: number };
  report(session: AnySession<T> | null, error: unknown): void;
}

/** The confirmations of one `sessions()`. */
export class Acks<T> {
  #host: AckHost<T>;
  /** Sessions with something to confirm, flushed together by one timer. */
  #due = new Set<AnySession<T>>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: AckHost<T>) {
    this.#host = host;
  }

  #flush = (): void => {
    this.#timer = undefined;
    const due = this.#due;
    this.#due = new Set();
    for (const session of due) this.ack(session);
  };

  /** Forgets a session's pending confirmation (it ended or lost its connection). */
  cancel(session: AnySession<T>): void {
    this.#due.delete(session);
    if (this.#due.size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Frame `q` is handled and its writes recorded: confirm it (in order, batched). */
  complete(session: AnySession<T>, q: number, generation: number): void {
    if (generation !== session.generation) return;
    if (q !== session.durable + 1) {
      (session.done ??= new Set()).add(q);
      return;
    }
    let advanced = 0;
    do {
      session.done?.delete(session.durable + 1);
      session.durable++;
      advanced++;
    } while (session.done?.has(session.durable + 1));
    session.sizes.shift(advanced);
    this.schedule(session);
  }

  /** Confirms within ACK_DELAY_MS, or at once when ACK_EVERY frames wait. */
  schedule(session: AnySession<T>): void {
    if (session.durable - session.acked >= ACK_EVERY) return this.ack(session);
    this.#due.add(session);
    this.#timer ??= setTimeout(this.#flush, ACK_DELAY_MS);
  }

  /**
   * Confirms what is durable. With a shared store the session's record (its last handled
   * number) is saved first, so that an instance that resumes the session knows it.
   */
  ack(session: AnySession<T>): void {
    this.#due.delete(session);
    if (session.acked >= session.durable || session.ended) return;
    const save = this.#host.store.saveSession;
    if (!save) return this.#sendAck(session, session.durable);
    if (session.saving) {
      session.saveAgain = true;
      return;
    }
    session.saving = true;
    const upTo = session.durable;
    const generation = session.generation;
    Promise.resolve().then(() => save.call(this.#host.store, session.record())).then(
      () => {
        session.saving = false;
        if (generation !== session.generation) return;
        this.#sendAck(session, upTo);
        if (session.saveAgain || session.durable > upTo) {
          session.saveAgain = false;
          this.schedule(session);
        }
      },
      (error) => {
        session.saving = false;
        session.saveAgain = false;
        this.broken(session, error, generation);
      },
    );
  }

  #sendAck(session: AnySession<T>, upTo: number): void {
    session.acked = Math.max(session.acked, upTo);
    session.link?.peer.send(`["k",${upTo}]`);
  }

  /**
   * A store write of the session failed: nothing past `durable` is confirmed. What was being
   * handled is thrown away and the connection closed with 1011; the client sends it again
   * on its next connection, and keyed writes make the second handling record nothing twice.
   */
  broken(session: AnySession<T>, error: unknown, generation: number): void {
    if (generation !== session.generation || session.ended) return;
    this.#host.counts.storeFailures++;
    this.#host.report(session, new StoreFailure(error));
    session.generation++;
    session.lastSeq = session.durable;
    session.queue = [];
    session.handling = undefined;
    session.done = undefined;
    session.sizes.clear();
    this.cancel(session);
    const peer = session.link?.peer;
    if (peer && peer.readyState < 2) peer.close(1011, "Cannot record: the session store failed");
  }
}
