/**
 * The session layer's bounds on what clients can make it hold: their defaults, the checks of
 * a room join, and the admission of new sessions (a count and a rate). Internal.
 *
 * @module
 */

import type { SessionLimits } from "./api.ts";
import { RemoteError } from "./errors.ts";
import { utf8Length } from "../_utf8.ts";

/** The defaults of {@linkcode SessionLimits}. */
export const DEFAULT_LIMITS: Required<SessionLimits> = {
  maxRoomNameBytes: 128,
  maxRoomsPerSession: 64,
  maxSessions: 10_000,
  maxSessionsPerSecond: 1000,
  maxUnconfirmed: 10_000,
  maxUnconfirmedBytes: 8 * 1024 * 1024,
  maxPresenceBytes: 512,
  maxMembersPerRoom: 1000,
};

/**
 * The limits with their defaults applied.
 *
 * @throws {RangeError} For a limit that is not a positive number.
 */
export function resolveSessionLimits(limits: SessionLimits = {}): Required<SessionLimits> {
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`Cannot configure sessions: limits.${name} must be > 0, got ${value}`);
    }
  }
  return resolved;
}

/** A client-supplied name, cut short and quoted, for messages that name it. */
export function quote(name: unknown): string {
  if (typeof name !== "string") return `(${name === null ? "null" : typeof name})`;
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}

/**
 * Refuses a room a session cannot join: no name, too long a name, or too many rooms.
 *
 * @throws {RemoteError} With code `"bad_room"` or `"too_many_rooms"`.
 */
export function checkJoin(
  limits: Required<SessionLimits>,
  session: { readonly rooms: ReadonlySet<string> },
  room: string,
): void {
  const max = limits.maxRoomNameBytes;
  if (typeof room !== "string" || room === "") {
    throw new RemoteError("Cannot join: the room name is empty", { code: "bad_room" });
  }
  if (room.length > max || (room.length * 3 > max && utf8Length(room) > max)) {
    throw new RemoteError(`Cannot join ${quote(room)}: a room name has at most ${max} bytes`, {
      code: "bad_room",
    });
  }
  if (session.rooms.size >= limits.maxRoomsPerSession) {
    throw new RemoteError(
      `Cannot join ${quote(room)}: a session is in at most ${limits.maxRoomsPerSession} rooms`,
      { code: "too_many_rooms" },
    );
  }
}

/** Whether a new session may start: a token bucket for the rate, and the count. */
export class Admission {
  #limits: Required<SessionLimits>;
  #tokens: number;
  #filled = performance.now();

  constructor(limits: Required<SessionLimits>) {
    this.#limits = limits;
    this.#tokens = limits.maxSessionsPerSecond;
  }

  /**
   * Decides on a new session.
   *
   * @param live Sessions there are now.
   * @param oldestWaiting The oldest disconnected session, if any.
   * @returns `undefined` to go ahead, `"evict"` to go ahead once the oldest disconnected
   * session has ended, or why not.
   */
  admit(live: number, oldestWaiting: unknown): string | undefined {
    const now = performance.now();
    const rate = this.#limits.maxSessionsPerSecond;
    this.#tokens = Math.min(rate, this.#tokens + (now - this.#filled) / 1000 * rate);
    this.#filled = now;
    if (this.#tokens < 1) return "Cannot start a session: too many new sessions, try again later";
    let verdict: string | undefined;
    if (live >= this.#limits.maxSessions) {
      if (oldestWaiting === undefined) {
        return `Cannot start a session: the server holds its maximum of ${this.#limits.maxSessions}`;
      }
      verdict = "evict";
    }
    this.#tokens--;
    return verdict;
  }
}
