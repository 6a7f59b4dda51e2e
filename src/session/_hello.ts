/**
 * The session handshake: a connection's `hello` creates a session or resumes one (from this
 * instance's memory, or from a shared store), replays what the client missed, and tells it
 * where each of its rooms stands. Internal.
 *
 * @module
 */

import { type ClientFrame, type Position, VERSION } from "./wire.ts";
import type { AnyProtocol } from "./types.ts";
import { type Core, TAKEN } from "./_core.ts";
import { isPosition } from "./_dispatch.ts";
import { type Link, ownStream, roomStream, roomTopic, ServerSession } from "./_session.ts";

type Hello = Extract<ClientFrame, { t: "hello" }>;

/** A secret session id as `randomId(16)` makes them. */
const SID = /^[A-Za-z0-9_-]{22}$/;

/** Thrown for a hello that asks for what cannot be: closes with the code it carries. */
export class HelloRefused extends Error {
  /** The close code. */
  readonly code: number;

  /** Creates the refusal. */
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Checks what a hello carries.
 *
 * @returns Why it is malformed, or `undefined`.
 */
function checkHello(frame: Hello, maxStreams: number, maxName: number): string | undefined {
  if (frame.sid !== undefined && (typeof frame.sid !== "string" || !SID.test(frame.sid))) {
    return "Cannot resume: the session id is malformed";
  }
  const streams = frame.streams;
  if (streams === undefined) return undefined;
  if (streams === null || typeof streams !== "object" || Array.isArray(streams)) {
    return "Cannot resume: streams is not an object";
  }
  const names = Object.keys(streams);
  if (names.length > maxStreams) return `Cannot resume: more than ${maxStreams} streams`;
  for (const name of names) {
    if (name.length > maxName || !isPosition(streams[name])) {
      return "Cannot resume: a stream position is malformed";
    }
  }
  return undefined;
}

/**
 * Answers a hello: attaches the connection to a new or resumed session and sends the welcome
 * and the replay.
 *
 * @throws {HelloRefused} For a hello to refuse (the caller closes with its code).
 */
export async function hello<T>(core: Core<T>, link: Link<T>, frame: Hello): Promise<void> {
  const peer = link.peer;
  if (frame.v !== VERSION) {
    const v = typeof frame.v === "number" ? frame.v : typeof frame.v;
    throw new HelloRefused(
      1002,
      `Cannot speak protocol version ${v}: this server speaks ${VERSION}`,
    );
  }
  const malformed = checkHello(
    frame,
    core.limits.maxRoomsPerSession + 1,
    core.limits.maxRoomNameBytes,
  );
  if (malformed) throw new HelloRefused(1002, malformed);
  const identify = core.options.identify ?? (() => "");
  const identity = identify(peer.data);
  const sid = frame.sid;
  let claimed = sid === undefined ? undefined : core.bySid.get(sid);
  if (!claimed && sid !== undefined && core.store.loadSession) {
    // Created on another instance: resume it here from the shared store.
    const record = await core.store.loadSession(sid);
    if (record && record.identity === identity && !core.bySid.has(sid)) {
      claimed = new ServerSession<AnyProtocol, T>(core, identity, record.data as T, record);
      core.bySid.set(claimed.sid, claimed);
      core.byId.set(claimed.id, claimed);
      core.detach(claimed); // waits for this connection like any disconnected session
      core.endpoint?.publish(TAKEN, claimed.sid);
    }
  }
  // A session id of another identity resumes nothing: it is treated as unknown.
  const resumed = claimed !== undefined && !claimed.ended && claimed.identity === identity;
  if (!resumed) {
    const refused = core.admit();
    if (refused) throw new HelloRefused(1013, refused);
  }
  const session = resumed ? claimed! : new ServerSession<AnyProtocol, T>(core, identity, peer.data);
  const previous = session.link;
  if (previous && previous !== link) {
    // The client came back before its old connection was noticed dead.
    previous.session = undefined;
    if (previous.peer.readyState < 2) previous.peer.close(4000, "Session resumed elsewhere");
    session.link = undefined;
  }
  const own = ownStream(session.sid);
  const names = ["", ...session.rooms];
  const key = (name: string) => name === "" ? own : roomStream(name);
  const positions = await Promise.all(names.map((name) => core.store.position(key(name))));
  // Own properties whatever the room is called: assigning `__proto__` would set the prototype.
  const streams: Record<string, Position> = Object.fromEntries(
    names.map((name, i) => [name, positions[i]!]),
  );
  core.noteEpoch(positions[0]![0]);
  let replay: string[] = [];
  let recovered = false;
  if (resumed) {
    const theirs = frame.streams ?? {};
    const gaps = await Promise.all(names.map((name) => {
      const from = Object.hasOwn(theirs, name) ? theirs[name] : undefined;
      if (from === undefined) return name === "" ? null : [];
      return core.store.since(key(name), from);
    }));
    recovered = gaps.every((g) => g !== null);
    if (recovered) replay = gaps.flat() as string[];
  }
  if (peer.readyState !== 1 || link.session !== undefined || session.ended) return;
  if (!resumed) {
    core.bySid.set(session.sid, session);
    core.byId.set(session.id, session);
  }
  core.attach(session, link);
  core.persist(session);
  if (resumed) core.counts.resumed++;
  if (recovered) core.counts.recovered++;
  core.counts.replayed += replay.length;
  session.acked = session.durable;
  link.nextQ = session.durable + 1;
  peer.send(JSON.stringify({
    t: "welcome",
    v: VERSION,
    sid: session.sid,
    pid: session.id,
    recovered,
    q: session.durable,
    streams,
    n: replay.length,
  }));
  for (const text of replay) peer.send(text);
  for (const room of session.rooms) peer.subscribe(roomTopic(room));
  core.presence?.attached(session);
  hintAfterAttach(core, link, session, streams);
  const connect = core.options.connect;
  if (connect) core.run(session, () => connect(session, { resumed, recovered }));
}

/**
 * What was written between the replay's read and the attachment (a room's publishes before
 * the subscriptions, the session's own frames while it had no connection) reached nobody:
 * tell the client where each stream stands now, so that it asks for what it lacks.
 */
function hintAfterAttach<T>(
  core: Core<T>,
  link: Link<T>,
  session: ServerSession<AnyProtocol, T>,
  read: Record<string, Position>,
): void {
  const names = Object.keys(read);
  const key = (name: string) => name === "" ? ownStream(session.sid) : roomStream(name);
  Promise.all(names.map((name) => core.store.position(key(name)))).then((now) => {
    if (session.link !== link) return;
    names.forEach((name, i) => {
      const last = now[i]![1];
      if (last > read[name]![1]) {
        link.peer.send(`["p",${JSON.stringify(name)},${last}]`);
      }
    });
  }, (error) => core.report(session, error));
}
