/**
 * The lifecycle events of a `SessionClient`: the session open, a resync to make, a message not
 * accepted for sending, and the typed event map of its `addEventListener`.
 *
 * @module
 */

/**
 * Dispatched when the session is ready: after the welcome, the replay and the resends.
 *
 * @example Know whether anything was missed
 * ```ts
 * import { SessionClient } from "@wskit/wskit/session-client";
 *
 * const chat = new SessionClient("ws://127.0.0.1:8000/");
 * chat.addEventListener("open", (e) => {
 *   console.log(`ready, resumed ${e.resumed}, recovered ${e.recovered}`);
 * });
 * ```
 */
export class SessionOpenEvent extends Event {
  /** The server still had this client's session. */
  readonly resumed: boolean;
  /** Nothing the server sent was missed (always false for a new session). */
  readonly recovered: boolean;

  /**
   * Creates the event.
   *
   * @param resumed Whether the session was resumed.
   * @param recovered Whether everything missed was replayed.
   */
  constructor(resumed: boolean, recovered: boolean) {
    super("open");
    this.resumed = resumed;
    this.recovered = recovered;
  }
}

/** Why the application must resynchronize. */
export type ResyncReason = "new-session" | "not-recovered" | "gap";

/** A message whose fate is unknown after the session was lost. */
export interface Unconfirmed {
  /** The event or request name (`"$join"`/`"$leave"` for rooms). */
  event: string;
  /** Its payload. */
  payload: unknown;
}

/**
 * Dispatched when messages may have been missed: the server lost the session (a restart, or
 * a disconnect longer than its window) or could not replay everything. Reload state from
 * the server; `unconfirmed` lists what was sent but never confirmed (it may or may not have
 * been handled).
 *
 * @example Reload when messages may have been missed
 * ```ts
 * import { SessionClient } from "@wskit/wskit/session-client";
 *
 * const chat = new SessionClient("ws://127.0.0.1:8000/");
 * chat.addEventListener("resync", (e) => {
 *   console.warn(`resync (${e.reason}); ${e.unconfirmed.length} messages of unknown fate`);
 * });
 * ```
 */
export class ResyncEvent extends Event {
  /** What happened. */
  readonly reason: ResyncReason;
  /** Messages sent before and never confirmed. */
  readonly unconfirmed: readonly Unconfirmed[];

  /**
   * Creates the event.
   *
   * @param reason What happened.
   * @param unconfirmed Messages sent and never confirmed.
   */
  constructor(reason: ResyncReason, unconfirmed: readonly Unconfirmed[] = []) {
    super("resync");
    this.reason = reason;
    this.unconfirmed = unconfirmed;
  }
}

/**
 * Messages not accepted for sending: the pending bounds were full, or the client is closed.
 *
 * @example Notice a message that was not accepted
 * ```ts
 * import { SessionClient } from "@wskit/wskit/session-client";
 *
 * const chat = new SessionClient("ws://127.0.0.1:8000/");
 * chat.addEventListener("drop", (e) => console.warn(`"${e.event}" not sent: ${e.reason}`));
 * ```
 */
export class SessionDropEvent extends Event {
  /** Why. */
  readonly reason: "overflow" | "closed";
  /** The event or request name. */
  readonly event: string;

  /**
   * Creates the event.
   *
   * @param reason Why.
   * @param event The event or request name.
   */
  constructor(reason: "overflow" | "closed", event: string) {
    super("drop");
    this.reason = reason;
    this.event = event;
  }
}

/** What changed in a room's presence: a member came, left, or changed its data. */
export type PresenceChange = "join" | "leave" | "update";

/**
 * A member of a room came, left, or changed its presence data (the room's map,
 * `client.presence(room)`, has changed already). A reconnect that resumes the session
 * changes nothing, so it dispatches nothing.
 *
 * @example Keep a member list
 * ```ts
 * import { SessionClient } from "@wskit/wskit/session-client";
 *
 * const chat = new SessionClient("ws://127.0.0.1:8000/");
 * chat.addEventListener("presence", (e) => {
 *   console.log(`${e.change} ${e.id} in ${e.room}: ${chat.presence(e.room).size} members`);
 * });
 * await chat.join("lobby", { presence: { status: "here" } });
 * ```
 */
export class PresenceEvent extends Event {
  /** What changed. */
  readonly change: PresenceChange;
  /** The room. */
  readonly room: string;
  /** The member's public id (its session's `id`). */
  readonly id: string;
  /** Its data (for a leave, the data it had). */
  readonly data: unknown;

  /**
   * Creates the event.
   *
   * @param change What changed.
   * @param room The room.
   * @param id The member's public id.
   * @param data Its data.
   */
  constructor(change: PresenceChange, room: string, id: string, data: unknown) {
    super("presence");
    this.change = change;
    this.room = room;
    this.id = id;
    this.data = data;
  }
}

/** The lifecycle events of a {@linkcode SessionClient}. */
export interface SessionClientEventMap {
  /** The session is ready. */
  open: SessionOpenEvent;
  /** Messages may have been missed. */
  resync: ResyncEvent;
  /** A message was not accepted for sending. */
  drop: SessionDropEvent;
  /** A handler failed, or the server sent what the client cannot read. */
  error: ErrorEvent;
  /** The client is closed for good. */
  close: CloseEvent;
  /** A room's presence changed. */
  presence: PresenceEvent;
}
