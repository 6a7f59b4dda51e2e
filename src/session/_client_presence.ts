/**
 * Presence, client side: a live map of each room's members (public id to data), kept from
 * the server's snapshots and changes, and the data this client shows in each room (sent
 * again when it joins a new session). A snapshot is compared with the map, so that a resumed
 * session, which gets one after every reconnect, dispatches only what really changed.
 * Internal to `SessionClient`.
 *
 * @module
 */

import { PresenceEvent } from "./client_events.ts";
import type { ServerFrame } from "./wire.ts";

type PresenceFrame = Extract<ServerFrame, { t: "ps" | "pi" | "po" }>;

interface RoomMembers {
  /** Public id to data: what the application reads. */
  data: Map<string, unknown>;
  /** Public id to the data's JSON: what tells an update from a repeat. */
  json: Map<string, string>;
}

/** One client's view of its rooms' members. */
export class ClientPresence {
  /** The data this client shows, by room. */
  readonly mine: Map<string, unknown> = new Map();
  #rooms = new Map<string, RoomMembers>();
  /** Rooms left: what the server sent before it knew is dropped. */
  #left = new Set<string>();
  #dispatch: (event: Event) => void;

  constructor(dispatch: (event: Event) => void) {
    this.#dispatch = dispatch;
  }

  #room(room: string): RoomMembers {
    let r = this.#rooms.get(room);
    if (!r) this.#rooms.set(room, r = { data: new Map(), json: new Map() });
    return r;
  }

  /** The live map of `room`'s members. */
  members(room: string): ReadonlyMap<string, unknown> {
    return this.#room(room).data;
  }

  /** A presence frame. */
  received(frame: PresenceFrame): void {
    if (typeof frame.s !== "string" || this.#left.has(frame.s)) return;
    const r = this.#room(frame.s);
    switch (frame.t) {
      case "pi":
        if (typeof frame.p === "string") this.#set(frame.s, r, frame.p, frame.d);
        return;
      case "po":
        if (typeof frame.p === "string") this.#remove(frame.s, r, frame.p);
        return;
      case "ps": {
        if (!Array.isArray(frame.m)) return;
        const now = new Map<string, unknown>();
        for (const entry of frame.m) {
          if (Array.isArray(entry) && typeof entry[0] === "string") now.set(entry[0], entry[1]);
        }
        for (const pid of [...r.data.keys()]) if (!now.has(pid)) this.#remove(frame.s, r, pid);
        for (const [pid, data] of now) this.#set(frame.s, r, pid, data);
      }
    }
  }

  #set(room: string, r: RoomMembers, pid: string, data: unknown): void {
    const json = JSON.stringify(data ?? null);
    const before = r.json.get(pid);
    if (before === json) return;
    r.data.set(pid, data);
    r.json.set(pid, json);
    this.#dispatch(new PresenceEvent(before === undefined ? "join" : "update", room, pid, data));
  }

  #remove(room: string, r: RoomMembers, pid: string): void {
    if (!r.json.has(pid)) return;
    const data = r.data.get(pid);
    r.data.delete(pid);
    r.json.delete(pid);
    this.#dispatch(new PresenceEvent("leave", room, pid, data));
  }

  /** This client joins `room` (again). */
  joining(room: string): void {
    this.#left.delete(room);
  }

  /** This client left the room: its map empties without events. */
  forget(room: string): void {
    this.#left.add(room);
    const r = this.#rooms.get(room);
    r?.data.clear();
    r?.json.clear();
    this.mine.delete(room);
  }

  /** The join frame of `room`, with this client's data there if it shows any. */
  joinText(room: string): string {
    const r = JSON.stringify(room);
    return this.mine.has(room)
      ? `["j",${r},${JSON.stringify(this.mine.get(room) ?? null)}]`
      : `["j",${r}]`;
  }
}
