// The browser build of the client at /wskit/client.js (option `serveClient`), over HTTP: its
// headers, revalidation with its ETag, HEAD, the one path and two methods it answers, the
// mountable handlers, and the JSR package that ships it. (In Chromium: tests/browser_test.ts.)

import { assert, assertEquals, assertMatch } from "@std/assert";
import { type BunServerLike, createHandler as bunHandler } from "@wskit/wskit/bun";
import { createHandler as denoHandler } from "@wskit/wskit/deno";
import { captureConsole } from "./_support/console.ts";
import { readText, removeDir, tempDir, writeBytes } from "./_support/files.ts";
import { test } from "./_support/harness.ts";
import { buildBrowserModule, root, runtimeBin, spawn } from "./_support/process.ts";
import { withServer } from "./_support/serve.ts";
import { rawHttp } from "./_support/tcp.ts";
import { within } from "./_support/wait.ts";
import { TestClient } from "./_support/ws.ts";

const PATH = "/wskit/client.js";
const MODULE_FILE = "src/server/_browser_client.js";

/** The built module, as the build wrote it. */
async function builtModule(): Promise<string> {
  await buildBrowserModule();
  return await (await fetch(new URL(`../${MODULE_FILE}`, import.meta.url))).text();
}

/** An application route that says it was reached. */
const app = (request: Request) => new Response(`app: ${request.method}`);

test(
  "GET /wskit/client.js answers the browser module with a strong ETag and revalidation",
  async () => {
    const source = await builtModule();
    await withServer({}, async (server) => {
      const base = `http://127.0.0.1:${server.port}`;
      const response = await fetch(`${base}${PATH}`);
      assertEquals(response.status, 200);
      assertEquals(await response.text(), source);
      const h = response.headers;
      assertEquals(h.get("content-type"), "text/javascript; charset=utf-8");
      assertEquals(h.get("cache-control"), "public, max-age=0, must-revalidate");
      assertEquals(h.get("x-content-type-options"), "nosniff");
      assertEquals(h.get("access-control-allow-origin"), "*");
      assertEquals(h.get("content-length"), String(new TextEncoder().encode(source).byteLength));
      const etag = h.get("etag")!;
      assertMatch(etag, /^"[A-Za-z0-9_-]{43}"$/, "a strong ETag: the SHA-256 of the module");

      // The same module gets the same ETag on every request, on every server.
      const again = await fetch(`${base}${PATH}?v=2`);
      assertEquals(again.headers.get("etag"), etag);
      await again.body?.cancel();

      for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const cached = await fetch(`${base}${PATH}`, { headers: { "if-none-match": ifNoneMatch } });
        assertEquals(cached.status, 304, ifNoneMatch);
        assertEquals(await cached.text(), "");
        assertEquals(cached.headers.get("etag"), etag);
        assertEquals(cached.headers.get("cache-control"), "public, max-age=0, must-revalidate");
      }
      const stale = await fetch(`${base}${PATH}`, { headers: { "if-none-match": '"old"' } });
      assertEquals(stale.status, 200);
      assertEquals(await stale.text(), source);

      // HEAD: the same headers, no body (read off the wire, where a body would show).
      const head = await rawHttp(server.port, `HEAD ${PATH} HTTP/1.1\r\nhost: x\r\n\r\n`);
      assertEquals(head.status, 200);
      assertEquals(head.headers.get("etag"), etag);
      assertEquals(head.headers.get("content-length"), h.get("content-length"));
      assertEquals(head.body, "");
    });
  },
  { timeout: 90_000 },
);

test(
  "only GET and HEAD of exactly /wskit/client.js are answered; the rest goes to fetch",
  async () => {
    await buildBrowserModule();
    await withServer({ message: (peer, m) => void peer.send(m) }, async (server) => {
      const base = `http://127.0.0.1:${server.port}`;
      for (
        const path of ["/wskit/client.jsx", "/wskit/client.js/", "/WSKIT/client.js", "/x" + PATH]
      ) {
        const other = await fetch(`${base}${path}`);
        assertEquals(await other.text(), "app: GET", path);
      }
      for (const method of ["POST", "PUT", "DELETE"]) {
        const other = await fetch(`${base}${PATH}`, { method, body: "x" });
        assertEquals(await other.text(), `app: ${method}`);
      }
      // An upgrade at that path is an upgrade.
      const ws = await TestClient.connect(`${server.url.slice(0, -1)}${PATH}`);
      ws.send("still a socket");
      assertEquals(await ws.next(), "still a socket");
      await ws.close();
    }, { fetch: app });
  },
  { timeout: 90_000 },
);

test("serveClient: false leaves /wskit/client.js to the application", async () => {
  await withServer({}, async (server) => {
    const response = await fetch(`http://127.0.0.1:${server.port}${PATH}`);
    assertEquals(await response.text(), "app: GET");
  }, { fetch: app, serveClient: false });
  await withServer({}, async (server) => {
    const response = await fetch(`http://127.0.0.1:${server.port}${PATH}`);
    assertEquals(response.status, 426);
    await response.body?.cancel();
  }, { serveClient: false });
});

test("both mountable handlers answer /wskit/client.js from handleUpgrade", async () => {
  const source = await builtModule();
  const request = (method = "GET") => new Request(`http://127.0.0.1${PATH}`, { method });
  // Neither handler touches the server for this request.
  const bunServer = {} as BunServerLike;
  const deno = denoHandler({});
  const bun = bunHandler({});
  const denoOff = denoHandler({}, { serveClient: false });
  const bunOff = bunHandler({}, { serveClient: false });
  try {
    const answers = [
      await deno.handleUpgrade(request()),
      await bun.handleUpgrade(request(), bunServer),
    ];
    for (const response of answers) {
      assertEquals(response?.status, 200);
      assertEquals(await response!.text(), source);
    }
    const head = await deno.handleUpgrade(request("HEAD"));
    assertEquals([head.status, await head.text()], [200, ""]);
    const off = [
      await denoOff.handleUpgrade(request()),
      await bunOff.handleUpgrade(request(), bunServer),
    ];
    for (const response of off) {
      assertEquals(response?.status, 426);
      await response?.body?.cancel();
    }
  } finally {
    await Promise.all([deno.close(), bun.close(), denoOff.close(), bunOff.close()]);
  }
}, { timeout: 90_000 });

test(
  "a copy of wskit with no browser build passes /wskit/client.js on, warns once, and serves " +
    "the module once it is built, with no restart",
  async () => {
    // A copy of the module (and the one it imports) beside which no build was ever written,
    // as in a git checkout before `deno task build:browser`.
    const dir = await tempDir("wskit-unbuilt-");
    try {
      for (const file of ["_client_module.ts", "handshake.ts"]) {
        const text = await readText(`${root}src/server/${file}`);
        await writeBytes(`${dir}/${file}`, new TextEncoder().encode(text));
      }
      const copy: typeof import("../src/server/_client_module.ts") = await import(
        `file://${dir}/_client_module.ts`
      );
      const get = () => copy.clientModule(new Request(`http://127.0.0.1${PATH}`));
      await captureConsole(async (captured) => {
        assertEquals(await get(), undefined);
        assertEquals(await get(), undefined);
        assertEquals(captured.lines().length, 1, captured.lines().join("\n"));
        assertMatch(
          captured.lines()[0]!,
          /^wskit: cannot serve \/wskit\/client\.js: .*build:browser/,
        );
        // Built while the server runs (Deno keeps a module that was missing as missing).
        const built = "export const built = true;\n";
        await writeBytes(`${dir}/_browser_client.js`, new TextEncoder().encode(built));
        const response = await get();
        assertEquals(response?.status, 200);
        assertEquals(await response!.text(), built);
        assertEquals(captured.lines().length, 1);
      });
    } finally {
      await removeDir(dir);
    }
  },
);

test("the JSR package holds the browser module (deno publish --dry-run lists it)", async () => {
  await buildBrowserModule();
  const args = ["publish", "--dry-run", "--allow-dirty", "--no-check", "--allow-slow-types"];
  const child = spawn(runtimeBin("deno"), [...args, "--config", `${root}deno.json`]);
  const code = await within(child.exited, "deno publish --dry-run", 60_000);
  assertEquals(code, 0, child.stderr());
  const listed = child.lines.filter((line) => line.includes(`file://${root}`));
  assert(
    listed.some((line) => line.includes(`${root}${MODULE_FILE} `)),
    `${MODULE_FILE} is not among the published files:\n${listed.join("\n")}`,
  );
}, { timeout: 90_000 });
