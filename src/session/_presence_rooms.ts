/**
 * Presence: this instance's view of the rooms its sessions are in (every member, of every
 * instance), and the frames that keep the local members' maps current. With a shared store,
 * a view is read from the store once, and changes that come meanwhile wait for the read.
 * Internal to `_presence.ts`.
 *
 * @module
 */

import type { PresenceEntry } from "./store.ts";
import { quote } from "./wire.ts";

/** A member as a view keeps it: its owning instance, its data as JSON. */
interface Member {
  owner: string;
  json: string;
}

/** One room as this instance sees it. */
interface View {
  members: Map<string, Member>;
  /** Members of this instance's sessions in it: the view is kept while there are any. */
  local: number;
  /** Read from the store (always, in one process). */
  loaded: boolean;
  /** A read under way; changes meanwhile wait in `buffered`. */
  loading: Promise<void> | undefined;
  buffered: (() => void)[];
}

/** A change relayed between instances: in, out, or an instance's whole set for the room. */
export type Relayed = ["i", string, string, string] | ["o", string, string] | [
  "a",
  string,
  [string, string][],
];

/** What the views need from presence. */
export interface ViewsHost {
  /** This instance, as an owner of members. */
  readonly owner: string;
  /** Whether the members live in a shared store (else in this process only). */
  readonly shared: boolean;
  /** Reads a room's members from the shared store. */
  read(room: string): Promise<PresenceEntry[]>;
  /** Sends a frame to this instance's members of a room. */
  send(room: string, frame: string): void;
  /** This instance's members of a room, as its sessions say: public id and JSON. */
  mine(room: string): [string, string][];
}

/** The views of the rooms with members of this instance. */
export class Views {
  #views = new Map<string, View>();
  #host: ViewsHost;

  constructor(host: ViewsHost) {
    this.#host = host;
  }

  get size(): number {
    return this.#views.size;
  }

  rooms(): string[] {
    return [...this.#views.keys()];
  }

  /** A room's members (and whether the view is there). */
  has(room: string): boolean {
    return this.#views.has(room);
  }

  /** Members in the view of a room, or -1 without one. */
  count(room: string): number {
    return this.#views.get(room)?.members.size ?? -1;
  }

  /** One more (or, with -1, one fewer) member of this instance in `room`. */
  local(room: string, delta: 1 | -1): void {
    let view = this.#views.get(room);
    if (!view && delta > 0) {
      const loaded = !this.#host.shared;
      view = { members: new Map(), local: 0, loaded, loading: undefined, buffered: [] };
      this.#views.set(room, view);
    }
    if (view) view.local += delta;
  }

  /** Forgets a view no local session needs (in one process, an empty room). */
  release(room: string): void {
    const view = this.#views.get(room);
    if (view && view.local <= 0 && (this.#host.shared || view.members.size === 0)) {
      this.#views.delete(room);
    }
  }

  /** The members of `room` as JSON by public id, once the view is read. */
  async members(room: string): Promise<[string, string][] | undefined> {
    const view = this.#views.get(room);
    if (!view) return undefined;
    await this.load(room);
    return [...view.members].map(([pid, m]) => [pid, m.json]);
  }

  /**
   * The frame with every member of a room, made when it is sent (a change sent before it is
   * in it), or `undefined` while the view is not read.
   */
  snapshot(room: string): string | undefined {
    const view = this.#views.get(room);
    if (!view || !view.loaded || view.loading) return undefined;
    const members = [...view.members].map(([pid, m]) => `[${quote(pid)},${m.json}]`);
    return `["s",${quote(room)},[${members.join(",")}]]`;
  }

  /** The owners other than this instance with members in a view. */
  others(): string[] {
    const owners = new Set<string>();
    for (const view of this.#views.values()) {
      for (const m of view.members.values()) owners.add(m.owner);
    }
    owners.delete(this.#host.owner);
    return [...owners];
  }

  /** A change relayed by another instance. */
  relayed(room: string, data: string): void {
    if (!this.#views.has(room)) return;
    let change: Relayed;
    try {
      change = JSON.parse(data);
    } catch {
      return;
    }
    if (!Array.isArray(change)) return;
    switch (change[0]) {
      case "i":
        return this.in(room, change[1], change[2], change[3] as string);
      case "o":
        return this.out(room, change[1], change[2]);
      case "a":
        return this.#apply(room, () => this.#asserted(room, change[1], change[2] as never));
    }
  }

  /** Member `pid` of `owner` is in `room` with `json` (new, or changed). */
  in(room: string, pid: string, owner: string, json: string): void {
    this.#apply(room, () => this.#in(room, pid, owner, json));
  }

  /** Member `pid` of `owner` left `room`. */
  out(room: string, pid: string, owner: string): void {
    this.#apply(room, () => this.#out(room, pid, owner));
  }

  /**
   * The members of instance `owner`, which is gone, leave every view.
   *
   * @returns The rooms they were in, with their public ids.
   */
  reap(owner: string): [string, string[]][] {
    const gone: [string, string[]][] = [];
    for (const [room, view] of this.#views) {
      const pids = [...view.members].filter(([, m]) => m.owner === owner).map(([pid]) => pid);
      if (pids.length === 0) continue;
      for (const pid of pids) this.#out(room, pid, owner);
      gone.push([room, pids]);
    }
    return gone;
  }

  /** Runs a change now, or after the read under way (which it may postdate). */
  #apply(room: string, change: () => void): void {
    const view = this.#views.get(room);
    if (!view) return;
    if (view.loading || !view.loaded) view.buffered.push(change);
    else change();
  }

  #in(room: string, pid: string, owner: string, json: string): void {
    const view = this.#views.get(room);
    if (!view || typeof pid !== "string" || typeof json !== "string") return;
    const before = view.members.get(pid);
    view.members.set(pid, { owner, json });
    if (before?.json === json) return;
    this.#host.send(room, `["i",${quote(room)},${quote(pid)},${json}]`);
  }

  #out(room: string, pid: string, owner: string): void {
    const view = this.#views.get(room);
    if (!view || view.members.get(pid)?.owner !== owner) return;
    view.members.delete(pid);
    this.#host.send(room, `["o",${quote(room)},${quote(pid)}]`);
    this.release(room);
  }

  /** `owner`'s members of `room` are exactly `list`. */
  #asserted(room: string, owner: string, list: [string, string][]): void {
    const view = this.#views.get(room);
    if (!view || !Array.isArray(list)) return;
    const keep = new Set(list.map(([pid]) => pid));
    for (const [pid, m] of [...view.members]) {
      if (m.owner === owner && !keep.has(pid)) this.#out(room, pid, owner);
    }
    for (const [pid, json] of list) this.#in(room, pid, owner, json);
  }

  /**
   * Reads a room's members from the store: once, or `again` after an outage, when the store
   * may not hold yet what the other instances will assert again (their members are kept
   * until the check at the end of the grace period, `"strict"`, reads the room as it is).
   * This instance's own members are what its sessions say.
   */
  load(room: string, again?: "lenient" | "strict"): Promise<void> {
    const view = this.#views.get(room);
    const host = this.#host;
    if (!view || !host.shared || (view.loaded && !again)) return Promise.resolve();
    if (view.loading) return view.loading;
    const loading = (async () => {
      try {
        const entries = await host.read(room);
        const read = new Map<string, Member>();
        for (const [pid, owner, json] of entries) {
          if (owner !== host.owner) read.set(pid, { owner, json });
        }
        if (again === "lenient") {
          for (const [pid, m] of view.members) {
            if (m.owner !== host.owner && !read.has(pid)) read.set(pid, m);
          }
        }
        for (const [pid, json] of host.mine(room)) read.set(pid, { owner: host.owner, json });
        view.members = read;
        view.loaded = true;
      } finally {
        view.loading = undefined;
        // What happened during the read goes on top of it, in order.
        const buffered = view.buffered.splice(0);
        if (view.loaded) { for (const change of buffered) change(); }
      }
      const frame = again ? this.snapshot(room) : undefined;
      if (frame) host.send(room, frame);
    })();
    view.loading = loading;
    return loading;
  }
}
