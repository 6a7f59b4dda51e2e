/**
 * `serve()` with `tls`: https and wss on the same port, `server.url` saying so, the default
 * origin check reading the scheme of the connection, refusals of a wrong certificate or key,
 * and the chat app's `--cert` and `--key`. Every client trusts the test's own authority:
 * verification stays on.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { type Hooks, serve, type ServeOptions } from "@wskit/wskit";
import { Browser, DESKTOP } from "./_support/cdp.ts";
import { runtime, test } from "./_support/harness.ts";
import {
  buildBrowserModule,
  type Child,
  runArgs,
  spawn,
  waitForStart,
} from "./_support/process.ts";
import { withServer } from "./_support/serve.ts";
import { type TestCertificate, testCertificate, trustingClient } from "./_support/tls.ts";
import { deferred, within } from "./_support/wait.ts";

/** Runs `body` with a fresh certificate, removed afterwards. */
async function withCertificate(body: (c: TestCertificate) => Promise<void>): Promise<void> {
  const certificate = await testCertificate();
  try {
    await body(certificate);
  } finally {
    await certificate.remove();
  }
}

/**
 * Opens `socket`, sends `text` and resolves with the first message back, or with how the
 * connection ended before opening (`closed before open: CODE`); the socket is closed either way.
 */
async function exchange(socket: WebSocket, text: string): Promise<string> {
  const opened = deferred<void>();
  const answer = deferred<string>();
  const closed = deferred<void>();
  socket.onopen = () => opened.resolve();
  socket.onmessage = (e) => answer.resolve(String(e.data));
  socket.onclose = (e) => {
    closed.resolve();
    opened.reject(new Error(`closed before open: ${e.code}`));
  };
  try {
    await within(opened.promise, `the open of ${socket.url}`);
    socket.send(text);
    return await within(answer.promise, "the echo");
  } catch (error) {
    return (error as Error).message;
  } finally {
    if (socket.readyState < WebSocket.CLOSING) socket.close();
    await within(closed.promise, "the close");
  }
}

/** Starts the chat app on a free port with `flags`, allowed on Deno to read its files. */
function chatApp(flags: string[]): Child {
  const file = "examples/chat_app/main.ts";
  const deno = ["--allow-net", "--allow-read"];
  return spawn(...runArgs(runtime, file, ["--port", "0", ...flags], { deno }));
}

const echo: Hooks = {
  message(peer, message) {
    peer.send(message);
  },
};

test("`serve()` with `tls` echoes over wss:// and answers https:// on the same port", async () => {
  await withCertificate(async ({ cert, key, ca }) => {
    const fetch = (request: Request) => new Response(`plain ${new URL(request.url).protocol}`);
    await withServer(echo, async (server) => {
      assertMatch(server.url, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
      const client = trustingClient(ca);
      try {
        assertEquals(await exchange(client.webSocket(server.url), "hello"), "hello");
        const page = await client.fetch(server.url.replace(/^wss:/, "https:") + "page");
        assertEquals([page.status, await page.text()], [200, "plain https:"]);
      } finally {
        client.close();
      }
    }, { tls: { cert, key }, fetch });
  });
}, { requires: ["openssl"] });

test("`serve()` with `tls` lets in a page of its own https origin, not its http one", async () => {
  await withCertificate(async ({ cert, key, ca }) => {
    await withServer(echo, async (server) => {
      const client = trustingClient(ca);
      const from = (origin: string) =>
        exchange(client.webSocket(server.url, { headers: { origin } }), "hi");
      try {
        assertEquals(await from(`https://127.0.0.1:${server.port}`), "hi");
        assertMatch(await from(`http://127.0.0.1:${server.port}`), /^closed before open/);
      } finally {
        client.close();
      }
    }, { tls: { cert, key } });
  });
}, { requires: ["openssl"] });

test("`serve()` refuses a `tls` that is not a PEM certificate and its key", async () => {
  await withCertificate(async ({ cert, key, ca, files }) => {
    const damaged = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const cases: [string, unknown, RegExp][] = [
      ["paths", { cert: files.cert, key: files.key }, /tls\.cert is not .*not its path/],
      ["no key", { cert }, /tls\.key is missing/],
      ["an empty key", { cert, key: "" }, /tls\.key is missing/],
      ["swapped", { cert: key, key: cert }, /tls\.cert is not a PEM certificate/],
      ["a certificate as key", { cert, key: ca }, /tls\.key is not .*private key/],
      ["bytes", { cert: new TextEncoder().encode(cert), key }, /tls\.cert must be PEM text/],
      ["a string", "cert.pem", /tls must be an object/],
      ["a key of another certificate", { cert: ca, key }, /tls\.key is not the private key/],
      ["a damaged block", { cert: damaged, key }, /refused tls\.cert or tls\.key/],
      [
        "a legacy encrypted key",
        { cert, key: key.replace(/-----\n/, "-----\nProc-Type: 4,ENCRYPTED\n") },
        /tls\.key is not .*encrypted: decrypt it/,
      ],
    ];
    for (const [what, tls, reason] of cases) {
      const options = { port: 0, tls } as ServeOptions;
      const error = await assertRejects(() => serve(echo, options), Error, "Cannot serve: ");
      assertMatch(error.message, reason, what);
      assert(!error.message.includes("PRIVATE KEY-----\n"), `${what}: the key is not echoed`);
    }
  });
}, { requires: ["openssl"] });

test(
  "a Chromium page served over https by `serve()` with `tls` echoes over wss from its own origin",
  async () => {
    await withCertificate(async ({ cert, key }) => {
      const page = `<title>tls</title>`;
      const fetch = () => new Response(page, { headers: { "content-type": "text/html" } });
      await withServer(echo, async (server) => {
        const browser = await Browser.launch();
        try {
          const tab = await browser.newPage("tab", DESKTOP);
          // The browser's own verification is off: Browser.launch cannot add an authority.
          // The clients of the other tests verify; this one shows what a page does (on Deno
          // it loads over HTTP/2, and its socket still opens) and that the default origin
          // check lets the page's https origin in.
          await tab.send("Security.setIgnoreCertificateErrors", { ignore: true });
          await tab.goto(server.url.replace(/^wss:/, "https:"));
          const echoed = await tab.evaluate(`new Promise((resolve) => {
            const ws = new WebSocket(${JSON.stringify(server.url)});
            ws.onopen = () => ws.send("from the page");
            ws.onmessage = (e) => { resolve(e.data); ws.close(); };
            ws.onclose = (e) => resolve("closed " + e.code);
          })`);
          assertEquals(echoed, "from the page");
          assertEquals(browser.problems, []);
        } finally {
          await browser.close();
        }
      }, { tls: { cert, key }, fetch });
    });
  },
  { timeout: 90_000, requires: ["openssl", "chromium"] },
);

test(
  "chat_app with --cert and --key serves its page over https and its room over wss",
  async () => {
    await buildBrowserModule();
    await withCertificate(async ({ ca, files }) => {
      const child = chatApp(["--cert", files.cert, "--key", files.key]);
      const client = trustingClient(ca);
      try {
        const url = /wss:\/\/\S+/.exec(await waitForStart(child, /wss:\/\/\S+/))![0];
        const page = await client.fetch(url.replace(/^wss:/, "https:"));
        assertEquals(page.status, 200);
        assertMatch(await page.text(), /<html/i);
        const socket = client.webSocket(url);
        const welcome = await exchange(socket, JSON.stringify({ name: "tls" }));
        assert(welcome.startsWith("{"), `a JSON answer over wss, got ${welcome}`);
      } finally {
        client.close();
        await child.stop("SIGTERM");
      }
    });
  },
  { timeout: 60_000, requires: ["openssl"] },
);

test(
  "chat_app exits 2 with one line for --cert without --key, a file it cannot read, a key of " +
    "another certificate",
  async () => {
    await buildBrowserModule();
    await withCertificate(async ({ files }) => {
      const cases: [string[], RegExp][] = [
        [["--cert", files.cert], /--cert and --key go together/],
        [["--cert", `${files.cert}.gone`, "--key", files.key], /cannot read --cert or --key: /],
        [["--cert", files.ca, "--key", files.key], /tls\.key is not the private key of tls\.cert/],
      ];
      for (const [flags, reason] of cases) {
        const child = chatApp(flags);
        // A chat_app that took the flags would serve until stopped.
        const code = await within(child.exited, "the exit of chat_app", 15_000)
          .finally(() => child.stop());
        const said = child.stderr().trim();
        assertEquals([code, said.split("\n").length], [2, 1], said);
        assertMatch(said, /^chat_app: Cannot start: /);
        assertMatch(said, reason);
      }
    });
  },
  { timeout: 60_000, requires: ["openssl"] },
);
