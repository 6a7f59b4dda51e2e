/**
 * What the server and the client code of a session application share: the typing of a
 * protocol (events and requests in each direction, checked at compile time on both ends),
 * request options, and the error a refused request arrives as. Web standards only; it pulls
 * in neither the server nor the client.
 *
 * @example A protocol, shared by both ends
 * ```ts
 * import type { Protocol } from "@wskit/wskit/protocol";
 *
 * export interface Chat extends Protocol {
 *   clientEvents: { say: { text: string } };
 *   serverEvents: { said: { name: string; text: string } };
 *   clientRequests: { rename: { payload: { name: string }; result: { name: string } } };
 *   serverRequests: { confirm: { payload: string; result: boolean } };
 * }
 * ```
 *
 * @module
 */

export type { AnyProtocol, EventName, Protocol, RequestOptions, RequestShape } from "./types.ts";
export { RemoteError } from "./errors.ts";
export type { ErrorBody, Position } from "./wire.ts";
