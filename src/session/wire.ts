/**
 * The session wire format, version 3: compact JSON text frames, shared by the session server and the
 * session client (this file imports only types, so the client pulls in no server code). The
 * specification is `docs/protocol.md`; this is its code.
 *
 * @module
 */

import type { ErrorBody, Position } from "./types.ts";

export type { ErrorBody, Position } from "./types.ts";

/** The protocol version this code speaks. */
export const VERSION = 3;

/** The WebSocket subprotocol a session client offers, and a session server chooses. */
export const SUBPROTOCOL = "wskit.session.v3";

/**
 * Client to server, as read: every frame but `hello` is a JSON array led by its type letter
 * (`docs/protocol.md`). Sequenced frames (events, requests, joins, leaves, answers) are
 * numbered by their order on the session, from 1, not on the wire: `q` is given by the
 * server as they arrive, counting on from the `q` of the last welcome.
 */
export type ClientFrame =
  | { t: "hello"; v: number; sid?: string; streams?: Record<string, Position> }
  | { t: "g"; s: string; p: Position }
  | { t: "e"; q: number; e: string; d?: unknown }
  | { t: "r"; q: number; e: string; d?: unknown }
  | { t: "j"; q: number; r: string; d?: unknown }
  | { t: "l"; q: number; r: string }
  | { t: "y"; q: number; r: string; d?: unknown }
  | { t: "res"; q: number; i: number; d?: unknown; err?: ErrorBody }
  | { t: "bye" };

/**
 * Server to client, as read. `s` names a room stream (absent: the session's own), `o` the
 * offset. `p` says that stream `s` holds entries up to `o` (a client behind it has a gap to
 * fill); `lost` that the entries of `s` up to `o` that the client lacks can no longer be
 * replayed; `epoch` that the store lost its history and every stream starts over in `e`.
 * Presence frames are not numbered (they are state, not history): `ps` is the members of
 * room `s` (`m`: `[pid, data]` pairs), `pi` that member `p` is in with data `d` (new, or
 * changed), `po` that it left.
 */
export type ServerFrame =
  | {
    t: "welcome";
    v: number;
    sid: string;
    pid: string;
    recovered: boolean;
    q: number;
    streams: Record<string, Position>;
    /** How many replayed frames follow this one. */
    n: number;
  }
  | { t: "e"; s?: string; o: number; e: string; d?: unknown; x?: string }
  | { t: "r"; o: number; i: number; e: string; d?: unknown }
  | { t: "res"; o: number; i: number; d?: unknown; err?: ErrorBody; pos?: Position }
  | { t: "ack"; q: number }
  | { t: "p"; s: string; o: number }
  | { t: "lost"; s: string; o: number }
  | { t: "epoch"; e: string }
  | { t: "ps"; s: string; m: unknown }
  | { t: "pi"; s: string; p: string; d: unknown }
  | { t: "po"; s: string; p: string };

/** Whether a value contains bytes anywhere (they travel base64-encoded, flagged `b: 1`). */
export function hasBytes(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== "object" || depth > 32) return false;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (hasBytes(v, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (hasBytes((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

const BYTES = "$bytes";

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { [BYTES]: toBase64(value) };
  if (ArrayBuffer.isView(value)) {
    return { [BYTES]: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (value instanceof ArrayBuffer) return { [BYTES]: toBase64(new Uint8Array(value)) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (
    value !== null && typeof value === "object" && BYTES in value &&
    Object.keys(value).length === 1
  ) {
    return fromBase64((value as Record<string, string>)[BYTES]!);
  }
  return value;
}

/**
 * Serializes a payload once, for a frame: its JSON text, and the frame's type letter in upper
 * case when bytes were encoded (the reader then revives them).
 *
 * @param type The frame's type letter.
 * @param payload The payload; `undefined` travels as `null`.
 * @returns The type letter to use, and the JSON text.
 * @throws {TypeError} For a payload JSON cannot carry (a cycle, a BigInt).
 */
export function encodePayload(type: string, payload: unknown): [type: string, json: string] {
  const bytes = hasBytes(payload);
  let json: string | undefined;
  try {
    json = bytes ? JSON.stringify(payload, replacer) : JSON.stringify(payload);
  } catch (error) {
    throw new TypeError(`Cannot send the payload: ${(error as Error).message}`);
  }
  return [bytes ? type.toUpperCase() : type, json ?? "null"];
}

/** Names (events, rooms) as JSON strings, remembered: the same few go out again and again. */
const quoted = new Map<string, string>();

/** `JSON.stringify(name)`, remembered for short names. */
export function quote(name: string): string {
  let q = quoted.get(name);
  if (q === undefined) {
    q = JSON.stringify(name);
    if (name.length <= 64 && quoted.size < 4096) quoted.set(name, q);
  }
  return q;
}

/**
 * Parses a frame: an object (`hello`, `welcome`) or an array led by its type letter, whose
 * upper case says that bytes encoded by {@linkcode encodePayload} come back as `Uint8Array`.
 *
 * @returns The parsed JSON, or `undefined` for text that is neither.
 */
export function parseJson(text: string): unknown[] | Record<string, unknown> | undefined {
  const first = text.charCodeAt(0);
  if (first !== 91 && first !== 123) return undefined; // [ {
  // Only frames that carry bytes pay for the reviver: their type letter is upper case.
  const letter = text.charCodeAt(2);
  const bytes = first === 91 && letter >= 65 && letter <= 90;
  try {
    const value = bytes ? JSON.parse(text, reviver) : JSON.parse(text);
    return value !== null && typeof value === "object" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** An error's body as read: whatever it is, an error (`RemoteError.from` reads its fields). */
function errorBody(value: unknown): ErrorBody {
  return (value !== null && typeof value === "object" ? value : {}) as ErrorBody;
}

/**
 * Reads a client's frame (on the server). Sequenced frames get `q: 0`: the server numbers
 * them as they arrive.
 *
 * @returns The frame, or `undefined` for text that is not a frame of this protocol.
 */
export function parseClientFrame(text: string): ClientFrame | undefined {
  const v = parseJson(text);
  if (!v) return undefined;
  if (!Array.isArray(v)) return v.t === "hello" ? v as ClientFrame : undefined;
  const f = v as unknown[];
  switch (f[0]) {
    case "e":
    case "E":
      return { t: "e", q: 0, e: f[1] as string, d: f[2] };
    case "r":
    case "R":
      return { t: "r", q: 0, e: f[1] as string, d: f[2] };
    case "j":
      return f.length > 2
        ? { t: "j", q: 0, r: f[1] as string, d: f[2] }
        : { t: "j", q: 0, r: f[1] as string };
    case "y":
      return { t: "y", q: 0, r: f[1] as string, d: f[2] };
    case "l":
      return { t: "l", q: 0, r: f[1] as string };
    case "a":
    case "A":
      return { t: "res", q: 0, i: f[1] as number, d: f[2] };
    case "x":
      return { t: "res", q: 0, i: f[1] as number, err: errorBody(f[2]) };
    case "g":
      return { t: "g", s: f[1] as string, p: f[2] as Position };
    case "b":
      return { t: "bye" };
    default:
      return undefined;
  }
}

/**
 * Reads a server's frame (on the client).
 *
 * @returns The frame, or `undefined` for text that is not a frame of this protocol.
 */
export function parseServerFrame(text: string): ServerFrame | undefined {
  const v = parseJson(text);
  if (!v) return undefined;
  if (!Array.isArray(v)) return v.t === "welcome" ? v as ServerFrame : undefined;
  const f = v as unknown[];
  const o = f[1] as number;
  switch (f[0]) {
    case "e":
    case "E":
      return { t: "e", o, e: f[2] as string, d: f[3] };
    case "m":
    case "M":
      return f.length > 5
        ? { t: "e", s: f[2] as string, o, e: f[3] as string, d: f[4], x: f[5] as string }
        : { t: "e", s: f[2] as string, o, e: f[3] as string, d: f[4] };
    case "r":
    case "R":
      return { t: "r", o, i: f[2] as number, e: f[3] as string, d: f[4] };
    case "a":
    case "A":
      return f.length > 4
        ? { t: "res", o, i: f[2] as number, d: f[3], pos: f[4] as Position }
        : { t: "res", o, i: f[2] as number, d: f[3] };
    case "x":
      return { t: "res", o, i: f[2] as number, err: errorBody(f[3]) };
    case "k":
      return { t: "ack", q: o };
    case "p":
      return { t: "p", s: o as unknown as string, o: f[2] as number };
    case "u":
      return { t: "lost", s: o as unknown as string, o: f[2] as number };
    case "n":
      return { t: "epoch", e: o as unknown as string };
    case "s":
      return { t: "ps", s: o as unknown as string, m: f[2] };
    case "i":
      return { t: "pi", s: o as unknown as string, p: f[2] as string, d: f[3] };
    case "o":
      return { t: "po", s: o as unknown as string, p: f[2] as string };
    default:
      return undefined;
  }
}
