/**
 * The page the chat serves on the socket's own port, and everything it loads. The files are
 * imported as text (`with { type: "text" }`), not read at run time, so that the app needs no
 * permission beyond `--allow-net`:
 *
 * | path               | what                                                             |
 * | ------------------ | ---------------------------------------------------------------- |
 * | `/`                | the page, `web/index.html`                                       |
 * | `/chat.css`        | its style: phone-sized first, light and dark                     |
 * | `/chat.js`         | the view, `web/chat.js`                                          |
 * | `/link.js`         | the wire format and the connection, `web/link.js`                |
 * | `/close_codes.js`  | the close codes of a refused name, `web/close_codes.js`          |
 *
 * The page's `SessionClient` comes from `/wskit/client.js`, which wskit itself serves on every
 * server (`serveClient`): the browser module that `deno task build:browser` builds.
 *
 * @module
 */

import page from "./web/index.html" with { type: "text" };
import css from "./web/chat.css" with { type: "text" };
import view from "./web/chat.js" with { type: "text" };
import link from "./web/link.js" with { type: "text" };
import codes from "./web/close_codes.js" with { type: "text" };

/** Base64 of the SHA-256 of `text`, as a Content-Security-Policy source. */
async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

/**
 * What the page may do: scripts and styles from its own origin only, and of inline scripts
 * only its import map (by its hash), so that markup that ever slipped into the page could
 * not run; sockets to its own origin.
 */
async function policy(html: string): Promise<string> {
  const importMap = /<script type="importmap">([^]*?)<\/script>/.exec(html)?.[1] ?? "";
  return [
    "default-src 'none'",
    `script-src 'self' ${await sha256(importMap)}`,
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Builds the handler of plain HTTP requests: the page or one of the files it loads, `404`
 * for other paths, `405` for methods other than GET and HEAD.
 */
export async function chatPage(): Promise<(request: Request) => Response> {
  const js = "text/javascript; charset=utf-8";
  const files: Record<string, { body: string; type: string }> = {
    "/": { body: page, type: "text/html; charset=utf-8" },
    "/chat.css": { body: css, type: "text/css; charset=utf-8" },
    "/chat.js": { body: view, type: js },
    "/link.js": { body: link, type: js },
    "/close_codes.js": { body: codes, type: js },
  };
  const headers = {
    // Always asks again: a restarted server may serve a newer page.
    "cache-control": "no-cache",
    "content-security-policy": await policy(page),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  return (request) => {
    const path = new URL(request.url).pathname;
    const file = Object.hasOwn(files, path) ? files[path] : undefined;
    if (!file) return new Response("Not Found", { status: 404 });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const body = request.method === "HEAD" ? null : file.body;
    return new Response(body, { headers: { ...headers, "content-type": file.type } });
  };
}
