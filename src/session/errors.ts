/**
 * `RemoteError`: a request that the other side's handler refused, as the caller sees it.
 * Shared by the session server and client.
 *
 * @module
 */

import type { ErrorBody } from "./wire.ts";

export type { ErrorBody } from "./wire.ts";

/**
 * An error from the other side of a session request: what its handler threw, if it threw a
 * `RemoteError` (other errors arrive as "Internal error", code `"internal"`, so that no
 * internals leak), or the layer's own refusals (codes `"unknown_request"`, `"forbidden"`,
 * `"bad_room"`, `"too_many_rooms"`, `"ended"`, `"session_lost"`; and from a `SessionClient`
 * that cannot send, `"closed"` and `"overflow"`).
 *
 * @example Refuse a request with a code the client can act on
 * ```ts
 * import { RemoteError } from "@wskit/wskit/protocol";
 *
 * function rename(name: string) {
 *   if (name.length > 32) throw new RemoteError("Cannot rename: too long", { code: "too_long" });
 *   return { name };
 * }
 * ```
 */
export class RemoteError extends Error {
  /** An application code, when the handler gave one. */
  readonly code: string | undefined;

  /**
   * Creates a remote error.
   *
   * @param message What the other side should read.
   * @param options An application code.
   */
  constructor(message: string, options: { code?: string } = {}) {
    super(message);
    this.name = "RemoteError";
    this.code = options.code;
  }

  /** The error as it travels. */
  toBody(): ErrorBody {
    return this.code === undefined
      ? { name: this.name, message: this.message }
      : { name: this.name, message: this.message, code: this.code };
  }

  /**
   * The error from its travelling form.
   *
   * @param body What arrived.
   * @returns The error.
   */
  static from(body: ErrorBody): RemoteError {
    const message = typeof body?.message === "string" ? body.message : "Remote error";
    const code = typeof body?.code === "string" ? body.code : undefined;
    return new RemoteError(message, code === undefined ? {} : { code });
  }
}
