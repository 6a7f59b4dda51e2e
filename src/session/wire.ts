/**
 * The session wire format, version 2: JSON text frames, shared by the session server and the
 * session client (this file imports only types, so the client pulls in no server code). The
 * specification is `docs/protocol.md`; this is its code.
 *
 * @module
 */

import type { ErrorBody, Position } from "./types.ts";

export type { ErrorBody, Position } from "./types.ts";

/** The protocol version this code speaks. */
export const VERSION = 2;

/** The WebSocket subprotocol a session client offers, and a session server chooses. */
export const SUBPROTOCOL = "wskit.session.v2";

/**
 * Client to server. `q` is the per-session sequence number of sequenced frames; `hello`,
 * `g` (send me stream `s` after position `p`: a gap to fill) and `bye` are not sequenced.
 */
export type ClientFrame =
  | { t: "hello"; v: number; sid?: string; streams?: Record<string, Position> }
  | { t: "g"; s: string; p: Position }
  | { t: "e"; q: number; e: string; d?: unknown; b?: 1 }
  | { t: "r"; q: number; e: string; d?: unknown; b?: 1 }
  | { t: "j"; q: number; r: string }
  | { t: "l"; q: number; r: string }
  | { t: "res"; q: number; i: number; d?: unknown; b?: 1; err?: ErrorBody }
  | { t: "bye" };

/**
 * Server to client. `s` names a room stream (absent: the session's own), `o` the offset.
 * `p` says that stream `s` holds entries up to `o` (a client behind it has a gap to fill);
 * `lost` that the entries of `s` up to `o` that the client lacks can no longer be replayed;
 * `epoch` that the store lost its history and every stream starts over in epoch `e`.
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
  | { t: "e"; s?: string; o: number; e: string; d?: unknown; b?: 1; x?: string }
  | { t: "r"; o: number; i: number; e: string; d?: unknown; b?: 1 }
  | { t: "res"; o: number; i: number; d?: unknown; b?: 1; err?: ErrorBody; pos?: Position }
  | { t: "ack"; q: number }
  | { t: "p"; s: string; o: number }
  | { t: "lost"; s: string; o: number }
  | { t: "epoch"; e: string };

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
 * Serializes a payload into the JSON text that follows `"d":` in a frame.
 *
 * @returns The JSON text, and whether bytes were encoded (the frame then carries `b: 1`).
 * @throws {TypeError} For a payload JSON cannot carry (a cycle, a BigInt).
 */
export function encodePayload(payload: unknown): { json: string; bytes: boolean } {
  const bytes = hasBytes(payload);
  let json: string | undefined;
  try {
    json = bytes ? JSON.stringify(payload, replacer) : JSON.stringify(payload);
  } catch (error) {
    throw new TypeError(`Cannot send the payload: ${(error as Error).message}`);
  }
  return { json: json ?? "null", bytes };
}

/**
 * Builds a frame's JSON text from its fields and a payload, encoding the payload once.
 *
 * @param head The frame's fields except `d` and `b`, already JSON (without braces).
 * @param payload The payload; `undefined` leaves `d` out.
 */
export function frameText(head: string, payload: unknown): string {
  if (payload === undefined) return `{${head}}`;
  const { json, bytes } = encodePayload(payload);
  return bytes ? `{${head},"b":1,"d":${json}}` : `{${head},"d":${json}}`;
}

/**
 * Parses a frame; bytes encoded by {@linkcode encodePayload} come back as `Uint8Array`.
 *
 * @returns The frame, or `undefined` for text that is not a frame of this protocol.
 */
export function parseFrame<F extends { t: string }>(text: string): F | undefined {
  let frame: unknown;
  try {
    // Only frames that carry bytes pay for the reviver.
    frame = text.includes(`{"${BYTES}":`) ? JSON.parse(text, reviver) : JSON.parse(text);
  } catch {
    return undefined;
  }
  if (frame === null || typeof frame !== "object" || typeof (frame as F).t !== "string") {
    return undefined;
  }
  return frame as F;
}
