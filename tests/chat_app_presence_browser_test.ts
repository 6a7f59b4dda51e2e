// The chat app's member list in a real browser, across instances: examples/chat_app/main.ts
// started twice on one private Redis (one instance on each runtime), a Chromium tab on each.
// Both tabs show the same members and count (the room's presence), guest names are unique
// across the instances, and a name taken on one instance is refused on the other.

import { assertEquals } from "@std/assert";
import { Browser, DESKTOP, type Page, PHONE, usabilityFaults } from "./_support/cdp.ts";
import { otherRuntime, runtime, test } from "./_support/harness.ts";
import { type RunningExample, startExample } from "./_support/process.ts";
import { startRedis } from "./_support/redis.ts";

const MEMBERS = `[...document.querySelectorAll("#members > li")].map((li) => li.textContent)`;
const ONLINE = `document.getElementById("online").textContent`;
const TAKEN = "Cannot use the name: someone online goes by it";

/** Waits until the page lists exactly `names` (sorted) and counts them. */
async function shows(page: Page, names: string[]): Promise<void> {
  const want = JSON.stringify(names);
  await page.waitFor(
    `JSON.stringify(${MEMBERS}) === ${
      JSON.stringify(want)
    } && ${ONLINE} === "${names.length} online"`,
    `${page.name} to list ${want}`,
    15_000,
  );
}

/** The members a page lists. */
function members(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(MEMBERS);
}

test(
  "the chat app on two instances (Deno and Bun) on one Redis: two tabs show the same members and count, guest names are unique, a taken name is refused across instances",
  async () => {
    const redis = await startRedis();
    const apps: RunningExample[] = [];
    let browser: Browser | undefined;
    try {
      for (const r of [runtime, otherRuntime] as const) {
        apps.push(await startExample(r, "chat_app/main", ["--port", "0", "--redis", redis.url]));
      }
      browser = await Browser.launch();
      const one = await browser.newPage("one", PHONE);
      const two = await browser.newPage("two", DESKTOP);
      await one.goto(apps[0]!.url.replace("ws", "http"));
      await shows(one, ["guest-1"]);
      // The second instance gives its first guest a name no one goes by on either.
      await two.goto(apps[1]!.url.replace("ws", "http"));
      await shows(two, ["guest-1", "guest-2"]);
      await shows(one, ["guest-1", "guest-2"]);

      await one.type("name", "ada");
      await one.pressEnter();
      await shows(one, ["ada", "guest-2"]);
      await shows(two, ["ada", "guest-2"]);
      // Taken on the other instance: refused, whatever its case.
      await two.type("name", "ADA");
      await two.pressEnter();
      await two.waitFor(
        `[...document.querySelectorAll("#log .text")].some((t) => t.textContent === ${
          JSON.stringify(TAKEN)
        })`,
        "the refusal",
      );
      await two.type("name", "grace");
      await two.pressEnter();
      await shows(two, ["ada", "grace"]);
      await shows(one, ["ada", "grace"]);
      assertEquals(await members(one), await members(two));
      for (const page of [one, two]) assertEquals(await usabilityFaults(page), []);

      await two.goto("about:blank"); // the tab says goodbye: its member leaves
      await shows(one, ["ada"]);
    } finally {
      await browser?.close();
      await Promise.all(apps.map((a) => a.stop()));
      await redis.stop();
    }
  },
  { timeout: 90_000, requires: ["chromium", "redis-server"] },
);
