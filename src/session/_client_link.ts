/**
 * The session client's side of the wire: the hello and the welcome, the replay, the outbox
 * of frames until the server confirms them, and the streams' order. `SessionClient` around
 * it keeps the public surface, the listeners and the handlers. Internal.
 *
 * @module
 */

import { ReconnectingWebSocket } from "../client/reconnecting.ts";
import type { ClientSendStatus } from "../client/options.ts";
import {
  ResyncEvent,
  SessionDropEvent,
  SessionOpenEvent,
  type Unconfirmed,
} from "./client_events.ts";
import type { SessionSettings } from "./client_options.ts";
import { RemoteError } from "./errors.ts";
import {
  type ErrorBody,
  parseServerFrame,
  type Position,
  type ServerFrame,
  VERSION,
} from "./wire.ts";
import { Outbox, type Outgoing } from "./_client_outbox.ts";
import { Streams } from "./_client_streams.ts";
import type { Waiter } from "./_requests.ts";

/** A frame that carries an offset in a stream. */
export type Ordered = Extract<ServerFrame, { t: "e" | "r" | "res" }>;

/** What the wire side needs from the client around it. */
export interface LinkHost {
  /** Dispatches one of the client's events. */
  dispatch(event: Event): void;
  /** An event or a server request, in its turn. */
  deliver(frame: Extract<Ordered, { t: "e" | "r" }>): void;
  /** The rooms the client is in. */
  readonly rooms: ReadonlySet<string>;
  /** A presence frame (of a room the client joined, or the server joined it to). */
  presence(frame: Extract<ServerFrame, { t: "ps" | "pi" | "po" }>): void;
  /** The frame that joins `room` (again), with the client's presence data there. */
  joinText(room: string): string;
}

/** One session client's wire state. */
export class ClientLink {
  sid: string | undefined;
  pid = "";
  recovered = false;
  ready = false;
  closed = false;
  readonly streams: Streams<Ordered>;
  readonly outbox: Outbox;
  #socket: ReconnectingWebSocket;
  #options: SessionSettings;
  #host: LinkHost;
  #hadSession = false;
  #replayLeft = 0;
  #welcome: { resumed: boolean; recovered: boolean } | undefined;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: ReconnectingWebSocket, options: SessionSettings, host: LinkHost) {
    this.#socket = socket;
    this.#options = options;
    this.#host = host;
    this.outbox = new Outbox(options.maxPending, options.maxPendingBytes);
    this.streams = new Streams<Ordered>(
      {
        deliver: (frame) => frame.t === "res" ? this.#resolved(frame) : host.deliver(frame),
        fill: (stream, from) =>
          socket.send(`["g",${JSON.stringify(stream)},${JSON.stringify(from)}]`),
        lost: () => host.dispatch(new ResyncEvent("gap")),
        stuck: (why) => this.#restart(why),
      },
      options.gapTimeout,
      options.maxOutOfOrder,
    );
  }

  /** 0 connecting (or resuming), 1 ready, 3 closed for good. */
  get readyState(): number {
    return this.closed ? 3 : this.ready && this.#replayLeft === 0 ? 1 : 0;
  }

  enqueue(
    t: Outgoing["t"],
    event: string,
    payload: unknown,
    text: string,
    pending?: Waiter,
  ): ClientSendStatus {
    if (this.closed) {
      this.#host.dispatch(new SessionDropEvent("closed", event));
      return "dropped";
    }
    const m = this.outbox.add(t, event, payload, text, pending);
    if (!m) {
      this.#host.dispatch(new SessionDropEvent("overflow", event));
      return "dropped";
    }
    if (this.readyState === 1) {
      this.transmit(m);
      return "sent";
    }
    return "queued";
  }

  transmit(m: Outgoing): void {
    this.#socket.send(m.text);
    m.sent = true;
  }

  hello(): void {
    this.ready = false;
    const hello = this.sid === undefined
      ? { t: "hello", v: VERSION }
      : { t: "hello", v: VERSION, sid: this.sid, streams: this.streams.positions() };
    this.#socket.send(JSON.stringify(hello));
    clearTimeout(this.#helloTimer);
    this.#helloTimer = setTimeout(
      () => this.#restart("no welcome from the server"),
      this.#options.helloTimeout,
    );
  }

  disconnected(): void {
    clearTimeout(this.#helloTimer);
    this.ready = false;
    this.#replayLeft = 0;
    this.streams.clear();
    if (this.#socket.readyState !== ReconnectingWebSocket.CLOSED || this.closed) return;
    // Closed for good: nothing will be confirmed any more.
    this.closed = true;
    for (const p of [...this.outbox.pending.values()]) {
      p.reject(new RemoteError("Cannot get an answer: the client is closed", { code: "closed" }));
    }
    this.outbox.clear();
    this.#host.dispatch(new CloseEvent("close", { code: 1000, reason: "closed", wasClean: true }));
  }

  received(data: unknown): void {
    if (typeof data !== "string") return this.#fault("a binary frame");
    const frame = parseServerFrame(data);
    if (!frame) return this.#fault("an unreadable frame");
    if (frame.t === "welcome") return this.#welcomed(frame);
    if (!this.ready) return this.#fault(`"${frame.t}" before the welcome`);
    switch (frame.t) {
      case "ack":
        this.outbox.confirm(frame.q);
        break;
      case "p":
        this.streams.hint(frame.s, frame.o);
        break;
      case "lost":
        this.streams.lost(frame.s, frame.o);
        break;
      case "epoch":
        if (this.streams.restart(frame.e)) this.#host.dispatch(new ResyncEvent("not-recovered"));
        break;
      case "ps":
      case "pi":
      case "po":
        this.#host.presence(frame);
        break;
      case "e":
      case "r":
      case "res":
        this.streams.offer(frame.t === "e" ? frame.s ?? "" : "", frame.o, frame);
        break;
    }
    if (
      (frame.t === "e" || frame.t === "r" || frame.t === "res") && this.#replayLeft > 0 &&
      --this.#replayLeft === 0
    ) {
      this.#resumed();
    }
  }

  #welcomed(w: Extract<ServerFrame, { t: "welcome" }>): void {
    clearTimeout(this.#helloTimer);
    const resumed = this.sid !== undefined && w.sid === this.sid;
    this.sid = w.sid;
    this.pid = w.pid;
    const streams = this.streams;
    streams.epoch = Object.values(w.streams)[0]?.[0] ?? streams.epoch;
    this.recovered = w.recovered;
    this.ready = true;
    const unconfirmed: Unconfirmed[] = [];
    if (resumed) {
      this.outbox.confirm(w.q);
      // The server numbers what follows from w.q + 1: so must this client, even if the
      // server remembers less than it confirmed (a record that lost the last handled frames).
      const first = this.outbox.items[0];
      if (first && first.q !== w.q + 1) this.outbox.renumber(0, w.q + 1);
      if (!w.recovered) streams.reset(w.streams);
    } else {
      streams.reset(w.streams);
      const rooms = this.#hadSession ? [...this.#host.rooms] : [];
      for (const room of rooms) this.streams.expect(room);
      this.outbox.forNewSession(rooms, unconfirmed, (room) => this.#host.joinText(room));
    }
    this.#welcome = { resumed, recovered: w.recovered };
    const hadSession = this.#hadSession;
    this.#hadSession = true;
    if (!w.recovered && hadSession) {
      this.#host.dispatch(new ResyncEvent(resumed ? "not-recovered" : "new-session", unconfirmed));
    }
    this.#replayLeft = w.n;
    if (w.n === 0) this.#resumed();
  }

  /** The replay is over: send what is pending, in order, then announce the session open. */
  #resumed(): void {
    for (const m of this.outbox.items) {
      if (this.#socket.readyState !== ReconnectingWebSocket.OPEN) return;
      this.transmit(m);
    }
    const w = this.#welcome!;
    this.#host.dispatch(new SessionOpenEvent(w.resumed, w.recovered));
  }

  #resolved(frame: Extract<Ordered, { t: "res" }>): void {
    const { i: id, d: data, err, pos } = frame as {
      i: number;
      d: unknown;
      err?: ErrorBody;
      pos?: Position;
    };
    const pending = this.outbox.pending.get(id);
    if (!pending) return;
    this.outbox.pending.delete(id);
    if (err) return pending.reject(RemoteError.from(err));
    if (pending.room !== undefined && this.#host.rooms.has(pending.room)) {
      if (Array.isArray(pos)) this.streams.base(pending.room, pos);
    }
    pending.resolve(data);
  }

  #fault(what: string): void {
    this.#host.dispatch(
      new ErrorEvent("error", { message: `Cannot read the server: it sent ${what}` }),
    );
    this.#restart("protocol error");
  }

  /**
   * Starts the connection again, unless the application closed the client: `reconnect()`
   * also restarts a closed socket, and a timer set before the close must not.
   */
  #restart(why: string): void {
    if (this.closed || this.#socket.readyState >= ReconnectingWebSocket.CLOSING) return;
    this.#socket.reconnect(why);
  }
}
