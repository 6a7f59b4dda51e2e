/**
 * The chat's session protocol: what the page (a `SessionClient`) and the server say to each
 * other. Plain WebSocket clients speak the JSON format of `./room.ts` instead, and share the
 * same room.
 *
 * @module
 */

import type { Protocol } from "@wskit/wskit/protocol";

export { NAME_REFUSED, NAME_TAKEN } from "./web/close_codes.js";

/** A person in the chat, as the server keeps them. */
export interface Member {
  name: string;
  /** The rate limiter's bucket. */
  tokens: number;
  /** When the bucket was last filled, in ms. */
  filled: number;
}

/** The chat's events and requests. */
export interface ChatProtocol extends Protocol {
  clientEvents: Record<never, never>;
  serverEvents: {
    /** To a newcomer: the name it goes by and who is there. */
    welcome: { name: string; online: number };
    /** Someone came. */
    joined: { name: string; online: number };
    /** Someone left (their session ended). */
    left: { name: string; online: number };
    /** Someone changed name; `by` is their public id. */
    renamed: { from: string; name: string; by: string };
    /** A message; `by` is the sender's public id, `ref` the sender's own number for it. */
    message: { name: string; text: string; by: string; ref: number };
  };
  clientRequests: {
    /** Sends a message to everyone, the sender included. */
    say: { payload: { text: string; ref: number }; result: null };
    /** Changes the name. */
    rename: { payload: { name: string }; result: { name: string } };
  };
  serverRequests: Record<never, never>;
}
