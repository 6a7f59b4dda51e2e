/**
 * The session wire for tests that speak it by hand: frames written in the readable object
 * form of `src/session/wire.ts` (`{ t: "r", e: "ping", d: 1 }`) go out as the compact arrays
 * of `docs/protocol.md`, and what comes back is read into that form again.
 *
 * A sequenced frame's `q` is the test's own count: it is left out of the text, as a client
 * leaves it out (the server numbers frames as they arrive).
 */

import { parseClientFrame, parseServerFrame, type ServerFrame } from "../../src/session/wire.ts";
import type { TestClient } from "./ws.ts";

type Fields = Record<string, unknown>;

/** A client's frame, from its object form (`hello` goes as it is). */
export function clientFrame(f: Fields): string {
  const with_ = (head: unknown[], d: unknown) =>
    JSON.stringify(d === undefined ? head : [...head, d]);
  switch (f.t) {
    case "e":
    case "r":
      return with_([f.t, f.e], f.d);
    case "j":
    case "l":
      return JSON.stringify([f.t, f.r]);
    case "res":
      return f.err === undefined
        ? JSON.stringify(["a", f.i, f.d ?? null])
        : JSON.stringify(["x", f.i, f.err]);
    case "g":
      return JSON.stringify(["g", f.s, f.p]);
    case "bye":
      return `["b"]`;
    default:
      return JSON.stringify(f);
  }
}

/** A server's frame, from its object form (`welcome` goes as it is). */
export function serverFrame(f: Fields): string {
  switch (f.t) {
    case "e":
      return f.s === undefined
        ? JSON.stringify(["e", f.o, f.e, f.d ?? null])
        : JSON.stringify(["m", f.o, f.s, f.e, f.d ?? null, ...(f.x === undefined ? [] : [f.x])]);
    case "r":
      return JSON.stringify(["r", f.o, f.i, f.e, f.d ?? null]);
    case "res":
      if (f.err !== undefined) return JSON.stringify(["x", f.o, f.i, f.err]);
      return JSON.stringify(["a", f.o, f.i, f.d ?? null, ...(f.pos === undefined ? [] : [f.pos])]);
    case "ack":
      return JSON.stringify(["k", f.q]);
    case "p":
      return JSON.stringify(["p", f.s, f.o]);
    case "lost":
      return JSON.stringify(["u", f.s, f.o]);
    case "epoch":
      return JSON.stringify(["n", f.e]);
    default:
      return JSON.stringify(f);
  }
}

/** A server's frame read into its object form (`undefined` for anything else). */
export function readServerFrame(data: unknown): ServerFrame | undefined {
  return typeof data === "string" ? parseServerFrame(data) : undefined;
}

/** A client's frame read into its object form (`q` is 0: the reader numbers them). */
export function readClientFrame(data: unknown): Fields | undefined {
  return typeof data === "string" ? parseClientFrame(data) as Fields | undefined : undefined;
}

/** Reads frames until the answer to the client's frame number `q`. */
export async function answer(raw: TestClient, q: number, timeout = 5_000): Promise<Fields> {
  const m = await raw.until((m) => {
    const f = readServerFrame(m);
    return f?.t === "res" && f.i === q;
  }, timeout);
  return readServerFrame(m) as unknown as Fields;
}
