/**
 * The browser build of wskit's client, served by every wskit server at `/wskit/client.js`
 * (the `serveClient` option), the way Socket.IO serves `/socket.io/socket.io.js`: a page on
 * the server's own port imports `SessionClient` and `ReconnectingWebSocket` from there, with
 * no build step of its own.
 *
 * The module is `src/browser.ts` bundled by `deno task build:browser` into
 * `_browser_client.js` beside this file: git ignores it, JSR publishes it (`deno.json`
 * `publish.exclude` lets it in), and the tests build it before they use it. A git checkout
 * that has not built it passes the path on to the application, with a warning (once).
 *
 * @module
 */

import { isUpgrade } from "./handshake.ts";

/** The path the client module is served at. */
export const CLIENT_MODULE_PATH = "/wskit/client.js";

/** The module's bytes and their strong validator. */
interface Loaded {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

/** The module file, for the second way of reading it (see {@linkcode load}). */
const MODULE_FILE = new URL("./_browser_client.js", import.meta.url);

/**
 * Loaded once per process, on the first request for it. A failed load is tried again on the
 * next request, so that a server started before `deno task build:browser` serves the module
 * once it is built.
 */
let loaded: Promise<Loaded | undefined> | undefined;
/** Whether the missing build has been reported (once per process). */
let reported = false;

/** Reads and hashes the module, or resolves to `undefined` when this copy has none. */
async function load(): Promise<Loaded | undefined> {
  const text = await importText() ?? await readText();
  if (text === undefined) return undefined;
  const body = new TextEncoder().encode(text);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const base64 = btoa(String.fromCharCode(...digest));
  return { body, etag: `"${base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}"` };
}

async function importText(): Promise<string | undefined> {
  try {
    // A literal specifier: Deno puts the file in the module graph (and the package), so that
    // reading it needs no permission; it is read only when first asked for.
    return (await import("./_browser_client.js", { with: { type: "text" } })).default;
  } catch {
    return undefined;
  }
}

/**
 * Deno keeps a module that was missing when the process started as missing for the life of
 * the process, even once the file exists: a git checkout that builds the module after its
 * server started (its tests do) reads the file instead, which needs read permission there.
 */
async function readText(): Promise<string | undefined> {
  try {
    const response = await fetch(MODULE_FILE);
    if (response.ok) return await response.text();
    await response.body?.cancel();
  } catch { /* no such file, or no permission to read it */ }
  return undefined;
}

/**
 * Whether an `If-None-Match` value names `etag`: `*`, or a list holding it, weak or strong
 * (RFC 9110 compares weakly here).
 */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || (t.startsWith("W/") ? t.slice(2) : t) === etag;
  });
}

/**
 * Answers a GET or HEAD of exactly `/wskit/client.js` (any query) with the client module:
 * `200` with the module (no body for HEAD), or `304` when `If-None-Match` names its ETag.
 * The module is the same for every visitor and holds nothing of the server, so any page may
 * load it (`access-control-allow-origin: *`); browsers revalidate it on every load, so a
 * new version is seen at once and an unchanged one costs a `304`.
 *
 * @returns The answer; `undefined` for any other request (another path or method, an
 * upgrade), and resolves to `undefined` when this copy of wskit has no build of the module
 * (a git checkout that has not run `deno task build:browser`): the caller then handles the
 * request as it would without this module.
 */
export function clientModule(request: Request): Promise<Response | undefined> | undefined {
  if (request.method !== "GET" && request.method !== "HEAD") return undefined;
  // A cheap test first: most plain requests are for something else.
  if (!request.url.includes(CLIENT_MODULE_PATH)) return undefined;
  if (new URL(request.url).pathname !== CLIENT_MODULE_PATH || isUpgrade(request)) {
    return undefined;
  }
  return answer(request);
}

async function answer(request: Request): Promise<Response | undefined> {
  const module = await (loaded ??= load());
  if (!module) {
    loaded = undefined;
    if (!reported) {
      reported = true;
      console.warn(
        `wskit: cannot serve ${CLIENT_MODULE_PATH}: this copy of wskit has no browser build of ` +
          "its client (a git checkout builds it with `deno task build:browser`); such requests " +
          "go to the application meanwhile",
      );
    }
    return undefined;
  }
  const headers = new Headers({
    etag: module.etag,
    "cache-control": "public, max-age=0, must-revalidate",
    "access-control-allow-origin": "*",
  });
  if (matches(request.headers.get("if-none-match"), module.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("content-type", "text/javascript; charset=utf-8");
  headers.set("content-length", String(module.body.byteLength));
  headers.set("x-content-type-options", "nosniff");
  return new Response(request.method === "HEAD" ? null : module.body, { headers });
}

/**
 * The client-module responder for an endpoint's options: {@linkcode clientModule}, or one
 * that answers nothing when `serveClient` is `false`.
 */
export function clientModuleFor(
  options: { serveClient?: boolean },
): (request: Request) => Promise<Response | undefined> | undefined {
  return options.serveClient === false ? () => undefined : clientModule;
}
