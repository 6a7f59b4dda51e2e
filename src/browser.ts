/**
 * Everything of wskit that runs in a browser page, as one module: the reconnecting client,
 * the session client and what they share. It is the input of the browser build of the
 * client that every server serves at `/wskit/client.js` (`deno task build:browser`);
 * applications import the entry points instead.
 *
 * @module
 */

export * from "./client/mod.ts";
export * from "./session/protocol.ts";
export * from "./session/client.ts";
