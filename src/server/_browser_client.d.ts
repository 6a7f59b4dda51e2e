/**
 * The type of `_browser_client.js` as `_client_module.ts` imports it, as text: Deno knows
 * text imports, other type checkers (`bun check`, `tsc`) know only this declaration. It also
 * stands in for the file in a checkout that has not built it yet.
 *
 * @module
 */

/** The browser module's source text. */
declare const source: string;
export default source;
