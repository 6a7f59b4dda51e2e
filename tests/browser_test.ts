// The chat page in a real browser: examples/chat.ts started as a process on Deno and on Bun,
// two headless Chromium pages (a phone and a desktop, each in a browser context of its own)
// driven over the DevTools protocol with this runtime's WebSocket, and a plain WebSocket
// client that sends markup. The server is killed with SIGKILL mid-conversation and started
// again on the same port. Also: the committed browser build of the client matches src/.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { CLIENT_MODULE } from "../examples/chat_client_bundle.ts";
import { Browser, type Page, type PageProblem } from "./_cdp.ts";
import { restartExample } from "./_client.ts";
import { test } from "./_harness.ts";
import { root, runtimeBin, spawn, startExample } from "./_process.ts";
import { within } from "./_wait.ts";
import { startProxy } from "./_proxy.ts";
import { TestClient } from "./_ws.ts";

const ARTIFACTS = `${root}tests/artifacts`;
const PAYLOAD = `<img src=x onerror="window.__pwned=1">`;
const TAKEN = "Cannot use the name: someone online goes by it";

test("the committed browser build of the client is up to date with src/", async () => {
  // Always Deno's bundler (the build's one source), whichever runtime runs the suite.
  const check = spawn(runtimeBin("deno"), [
    "run",
    "--allow-read",
    "--allow-run",
    `${root}scripts/build_client.ts`,
    "--check",
  ]);
  const code = await within(check.exited, "the build check", 30_000);
  assertEquals(code, 0, `scripts/build_client.ts --check failed:\n${check.stderr()}`);
}, { timeout: 40_000 });

/** One line of a page's message list, as a person reads it. */
interface Entry {
  kind: "system" | "own" | "theirs";
  name: string;
  text: string;
}

const ENTRIES = `[...document.querySelectorAll("#log > li")].map((li) => ({
  kind: li.classList.contains("system") ? "system" : li.classList.contains("own") ? "own" : "theirs",
  name: li.querySelector(".name")?.textContent ?? "",
  text: li.querySelector(".text").textContent,
}))`;

const STATE = `document.getElementById("status").dataset.state`;
const STATUS_TEXT = `document.getElementById("status").textContent`;
const QUEUED = `[...document.querySelectorAll("#outbox-list > li")]
  .map((li) => li.dataset.status + ": " + li.querySelector(".text").textContent)`;

function entries(page: Page): Promise<Entry[]> {
  return page.evaluate<Entry[]>(ENTRIES);
}

/** Polls a page's message list until `match` finds an entry; returns it. */
async function entry(
  page: Page,
  what: string,
  match: (e: Entry, all: Entry[]) => boolean,
  timeout = 10_000,
): Promise<Entry> {
  const end = Date.now() + timeout;
  let all: Entry[] = [];
  while (Date.now() <= end) {
    all = await entries(page);
    const found = all.find((e) => match(e, all));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `Timed out after ${timeout} ms waiting in ${page.name} for ${what}; the list:\n${
      all.map((e) => `  ${e.kind} ${e.name ? `${e.name}: ` : ""}${e.text}`).join("\n")
    }`,
  );
}

function said(page: Page, kind: Entry["kind"], text: string, name = ""): Promise<Entry> {
  return entry(
    page,
    `${kind} "${text}"`,
    (e) => e.kind === kind && e.text === text && (name === "" || e.name === name),
  );
}

async function send(page: Page, text: string): Promise<void> {
  await page.type("message", text);
  await page.pressEnter(); // the keyboard path: Enter sends
}

async function connected(page: Page, timeout = 10_000): Promise<void> {
  await page.waitFor(`${STATE} === "connected"`, "the connected state", timeout);
}

for (const runtime of ["deno", "bun"] as const) {
  test(
    `examples/chat.ts on ${runtime} serves the page, its scripts and the client build`,
    async () => {
      const chat = await startExample(runtime, "chat", ["--port", "0"]);
      try {
        const base = chat.url.replace("ws", "http");
        const page = await fetch(base);
        assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
        assertStringIncludes(page.headers.get("content-security-policy")!, "script-src 'self'");
        const html = await page.text();
        assertStringIncludes(html, `<script type="module" src="chat.js"></script>`);
        for (const path of ["chat.js", "chat_link.js", "client.js"]) {
          const res = await fetch(base + path);
          assertEquals(res.status, 200, path);
          assertEquals(res.headers.get("content-type"), "text/javascript; charset=utf-8", path);
          const body = await res.text();
          if (path === "client.js") assertEquals(body, CLIENT_MODULE);
        }
        const css = await fetch(base + "chat.css");
        assertEquals(css.headers.get("content-type"), "text/css; charset=utf-8");
        await css.body?.cancel();
        const missing = await fetch(base + "nope.js");
        assertEquals(missing.status, 404);
        await missing.body?.cancel();
        const post = await fetch(base, { method: "POST", body: "x" });
        assertEquals(post.status, 405);
        await post.body?.cancel();
      } finally {
        await chat.stop();
      }
    },
    { timeout: 30_000 },
  );

  test(
    `the chat page in Chromium on a ${runtime} server: two people chat, markup stays text, ` +
      `a SIGKILL and restart are survived`,
    async () => {
      let chat = await startExample(runtime, "chat", ["--port", "0"]);
      const url = chat.url.replace("ws", "http");
      let browser: Browser | undefined;
      let plain: TestClient | undefined;
      try {
        browser = await Browser.launch();
        const ada = await browser.newPage("ada", {
          width: 390,
          height: 844,
          scale: 2,
          mobile: true,
        });
        const grace = await browser.newPage("grace", { width: 1024, height: 720 });

        // Pick a name: the name field and Enter.
        await ada.goto(url);
        await connected(ada);
        await said(ada, "system", "Welcome! You are guest-1: pick a name above.");
        await ada.type("name", "ada");
        await ada.pressEnter();
        await said(ada, "system", "You are now ada");
        await grace.goto(url);
        await connected(grace);
        await grace.type("name", "grace");
        await grace.pressEnter();
        await said(grace, "system", "You are now grace");
        // A join and the rename right after it read as one line.
        await said(ada, "system", "grace joined");
        for (const page of [ada, grace]) {
          await page.waitFor(
            `document.getElementById("online").textContent === "2 online"`,
            "2 online",
          );
          // Every field has a label; nothing is wider than a phone.
          assertEquals(
            await page.evaluate(
              `[...document.querySelectorAll("input")].filter((i) => i.labels.length === 0).length`,
            ),
            0,
          );
          assert(await page.evaluate(`document.documentElement.scrollWidth <= innerWidth`));
        }

        // A name someone online goes by is refused, and the page says why: on a rename (the
        // field goes back to the name one has) and at connect, where a page that asks for it
        // (a name kept from an earlier visit) comes in as a guest instead.
        await grace.type("name", "ADA");
        await grace.pressEnter();
        await said(grace, "system", TAKEN);
        await grace.waitFor(`document.getElementById("name").value === "grace"`, "grace again");
        const eve = await browser.newPage("eve", { width: 390, height: 844, mobile: true });
        await eve.send("Page.addScriptToEvaluateOnNewDocument", {
          source:
            `if (location.protocol === "http:") localStorage.setItem("wskit-chat-name", "Ada")`,
        });
        await eve.goto(url);
        await said(eve, "system", TAKEN);
        await connected(eve);
        const welcome = await entry(
          eve,
          "the guest's welcome",
          (e) => e.text.startsWith("Welcome"),
        );
        const guest = /^Welcome! You are (guest-\d+): pick a name above\.$/.exec(welcome.text)?.[1];
        assert(guest, `eve came in as a guest: ${welcome.text}`);
        await eve.goto("about:blank"); // leaves: the page says goodbye
        await said(ada, "system", `${guest} left`);

        // Both ways; one's own messages are told apart from the others'.
        await send(ada, "Hi Grace! Is the build green?");
        await said(grace, "theirs", "Hi Grace! Is the build green?", "ada");
        await said(ada, "own", "Hi Grace! Is the build green?");
        await send(grace, "Green on Deno and on Bun.");
        await said(ada, "theirs", "Green on Deno and on Bun.", "grace");
        await said(grace, "own", "Green on Deno and on Bun.");

        // Markup from a plain WebSocket client is shown as text and runs nothing.
        plain = await TestClient.connect(chat.url);
        plain.send(JSON.stringify({ type: "name", name: "<b>mallory</b>" }));
        plain.send(PAYLOAD);
        for (const page of [ada, grace]) {
          await said(page, "system", "<b>mallory</b> joined");
          await said(page, "theirs", PAYLOAD, "<b>mallory</b>");
        }
        await plain.close();
        plain = undefined;
        for (const page of [ada, grace]) {
          await said(page, "system", "<b>mallory</b> left");
          assertEquals(
            await page.evaluate(
              `document.querySelectorAll("#log *:not(li, span, p, time)").length`,
            ),
            0,
          );
          assertEquals(await page.evaluate(`typeof window.__pwned`), "undefined");
        }

        // The server hangs, then dies. A message written into the hung connection is sent but
        // never confirmed: while the link is down it waits to be sent again (a server that
        // kept the session would get it once); the server that comes back has lost the
        // session, so then the page says it may not have arrived and offers to send it again.
        chat.child.kill("SIGSTOP");
        await send(grace, "Anyone there?");
        await grace.waitFor(`${QUEUED}[0] === "sending: Anyone there?"`, "a message in flight");
        const killedAt = Date.now();
        chat.child.kill("SIGKILL");
        await chat.child.exited;
        await grace.waitFor(
          `${QUEUED}[0] === "queued: Anyone there?"`,
          "the message waiting for the connection",
        );
        // Both pages count down to their next attempt; what is written meanwhile waits, visibly.
        for (const page of [ada, grace]) {
          await page.waitFor(
            `${STATE} === "reconnecting" && /^Reconnecting in \\d+ s$/.test(${STATUS_TEXT})`,
            "the countdown to the next attempt",
          );
          await said(
            page,
            "system",
            "Connection lost. Messages you write now will be sent when it is back.",
          );
        }
        await send(ada, "Typed while the server was down");
        await send(grace, "Me too, from the desktop");
        assertEquals(await ada.evaluate(QUEUED), ["queued: Typed while the server was down"]);
        assertEquals(await grace.evaluate(QUEUED), [
          "queued: Anyone there?",
          "queued: Me too, from the desktop",
        ]);
        assertMatch(await ada.evaluate<string>(STATUS_TEXT), /^Reconnecting/);
        await ada.screenshot(`${ARTIFACTS}/chat-${runtime}-outage-phone.png`);
        await grace.screenshot(`${ARTIFACTS}/chat-${runtime}-outage-desktop.png`);

        // Back on the same port: both reconnect, restore their names, and send what waited.
        chat = await restartExample(runtime, "chat", chat.port);
        for (const page of [ada, grace]) {
          await connected(page, 30_000);
          await said(page, "system", "Reconnected");
        }
        const backAt = Date.now();
        await said(ada, "own", "Typed while the server was down");
        await said(grace, "own", "Me too, from the desktop");
        await grace.waitFor(
          `${QUEUED}[0] === "unconfirmed: Anyone there?"`,
          "the message the lost session may not have handled",
        );
        // "Send again", from the keyboard.
        await grace.evaluate(`document.querySelector("#outbox-list button").focus()`);
        assertEquals(await grace.evaluate(`document.activeElement.textContent`), "Send again");
        await grace.pressEnter();
        await said(grace, "own", "Anyone there?");
        await said(ada, "theirs", "Anyone there?", "grace");
        for (const page of [ada, grace]) {
          await page.waitFor(`${QUEUED}.length === 0`, "an empty outbox");
        }
        // The server opens one connection at a time, so exactly one page was back first and
        // saw the other join. It must have received what the other one wrote while down.
        const rejoined = async (page: Page, other: string) =>
          (await entries(page)).some((e, i, all) =>
            e.kind === "system" && e.text === `${other} joined` &&
            all.slice(0, i).some((x) => x.text === "Reconnected")
          );
        let first: Page | undefined;
        for (const end = Date.now() + 10_000; !first && Date.now() < end;) {
          const [a, g] = [await rejoined(ada, "grace"), await rejoined(grace, "ada")];
          assert(!(a && g), "both pages saw the other rejoin");
          first = a ? ada : g ? grace : undefined;
          if (!first) await new Promise((r) => setTimeout(r, 25));
        }
        assert(first, "neither page saw the other rejoin");
        if (first === ada) await said(ada, "theirs", "Me too, from the desktop", "grace");
        else await said(grace, "theirs", "Typed while the server was down", "ada");

        // And the conversation goes on both ways.
        await send(grace, "Welcome back!");
        await said(ada, "theirs", "Welcome back!", "grace");
        await send(ada, "Good to be back.");
        await said(grace, "theirs", "Good to be back.", "ada");
        assertEquals(await ada.evaluate(`typeof window.__pwned`), "undefined");
        await ada.screenshot(`${ARTIFACTS}/chat-${runtime}-phone.png`);
        await grace.screenshot(`${ARTIFACTS}/chat-${runtime}-desktop.png`);

        // The browser says the network is gone (navigator.onLine and the offline event; the
        // DevTools override does not cut real traffic): the page says offline, and when the
        // network is back the client reconnects at once instead of waiting out its backoff.
        const network = (offline: boolean) =>
          grace.send("Network.overrideNetworkState", {
            offline,
            latency: 0,
            downloadThroughput: -1,
            uploadThroughput: -1,
          });
        await grace.send("Network.enable");
        await network(true);
        await grace.waitFor(`${STATUS_TEXT} === "Offline: no network"`, "the offline state");
        await network(false);
        await connected(grace, 5_000);
        await send(grace, "Back online.");
        await said(ada, "theirs", "Back online.", "grace");

        // No exceptions and no console errors. While the server was down, Chromium logged
        // each refused reconnect attempt as a network error: "WebSocket connection to
        // 'ws://127.0.0.1:P/?name=ada' failed: Error in connection establishment:
        // net::ERR_CONNECTION_REFUSED", with " (http://127.0.0.1:P/client.js)", the script
        // that opened it, appended by tests/_cdp.ts. Those, and only those, are expected.
        const host = `127\\.0\\.0\\.1:${chat.port}`;
        const refused = new RegExp(
          `^WebSocket connection to 'ws://${host}/(\\?name=(ada|grace))?' failed: ` +
            `Error in connection establishment: net::ERR_CONNECTION_REFUSED` +
            `( \\(http://${host}/client\\.js\\))?$`,
        );
        const expected = (p: PageProblem) =>
          p.kind === "log" && p.source === "network" && refused.test(p.text) &&
          p.at >= killedAt && p.at <= backAt;
        assertEquals(browser.problems.filter((p) => !expected(p)), []);
      } finally {
        plain?.ws.close();
        await browser?.close();
        chat.child.kill("SIGKILL");
        await chat.child.exited;
        if (plain) await within(plain.closed, "the plain client's close").catch(() => {});
      }
    },
    { timeout: 90_000, requires: ["chromium"] },
  );

  test(
    `the chat page in Chromium on a ${runtime} server: a tab whose link drops for a few ` +
      `seconds misses no message`,
    async () => {
      const chat = await startExample(runtime, "chat", ["--port", "0"]);
      // The page reaches the server through a proxy that the test can cut.
      const proxy = startProxy(chat.port);
      let browser: Browser | undefined;
      let plain: TestClient | undefined;
      try {
        browser = await Browser.launch();
        const ada = await browser.newPage("ada", {
          width: 390,
          height: 844,
          scale: 2,
          mobile: true,
        });
        await ada.goto(`http://127.0.0.1:${proxy.port}/`);
        await connected(ada);
        plain = await TestClient.connect(chat.url);
        await said(ada, "system", "guest-2 joined");
        proxy.down(true);
        proxy.cut();
        await ada.waitFor(`${STATE} === "reconnecting"`, "the page to notice");
        for (let i = 1; i <= 5; i++) plain.send(`said while ada was away ${i}`);
        await plain.until((m) => (m as string).includes("away 5"));
        proxy.down(false);
        await connected(ada, 15_000);
        for (let i = 1; i <= 5; i++) {
          await said(ada, "theirs", `said while ada was away ${i}`, "guest-2");
        }
        const texts = (await entries(ada)).filter((e) => e.kind === "theirs").map((e) => e.text);
        assertEquals(texts, [1, 2, 3, 4, 5].map((i) => `said while ada was away ${i}`));
        // The others never saw ada leave: a blip is not a departure.
        const kinds = plain.messages.map((m) => JSON.parse(m as string).type as string);
        assertEquals(kinds.filter((k) => k === "leave"), []);
        assertEquals(browser.problems.filter((p) => p.kind !== "log"), []);
      } finally {
        plain?.ws.close();
        await browser?.close();
        proxy.close();
        await chat.stop();
        if (plain) await within(plain.closed, "the plain client's close").catch(() => {});
      }
    },
    { timeout: 60_000, requires: ["chromium"] },
  );
}
