// The chat app's names (examples/chat_app/names.ts), against people who would be someone
// else: a name someone online goes by, the server's own voice, invisible or direction-changing
// characters, control characters, nothing but spaces. Each is refused with a reason the
// client sees: on a rename (a request answered with an error, or a plain client's error
// frame) and at connect (`?name=`: the upgrade is accepted, then closed with 4409 or 4400 and
// the reason), for pages (session clients) and plain clients alike.

import { assert, assertEquals, assertRejects } from "@std/assert";
import { chatApp, NAME_REFUSED, NAME_TAKEN } from "../../examples/chat_app/room.ts";
import type { ChatProtocol } from "../../examples/chat_app/protocol.ts";
import { RemoteError, serve, type Server, SessionClient } from "@wskit/wskit";
import { test } from "../_support/harness.ts";
import { deferred, waitFor, within } from "../_support/wait.ts";
import { TestClient } from "../_support/ws.ts";

const TAKEN = "Cannot use the name: someone online goes by it";
const CONTROL = "Cannot use the name: it has control characters";
const INVISIBLE = "Cannot use the name: it has invisible or direction-changing characters";
const LENGTH = "Cannot use the name: it has 1 to 32 characters";
const RESERVED = "Cannot use the name: it is the server's";

/** Each class of refused name, with what the client is told. */
const CLASSES: { what: string; names: string[]; error: string; code: string }[] = [
  {
    what: "the server's own voice",
    names: ["server", "System", "SYSTEM", "ｓｅｒｖｅｒ", "𝐬𝐲𝐬𝐭𝐞𝐦", "ˢᵉʳᵛᵉʳ", " server "],
    error: RESERVED,
    code: "reserved_name",
  },
  {
    what: "zero-width and direction-changing characters",
    names: [
      "\u200B",
      "\u200B\u200B\u200B",
      "a\u200Bda",
      "\u202Eada",
      "ada\u202Dx",
      "\u2067ada\u2069",
      "ada\u200E",
      "\uFEFFada",
      "\u2060",
      "\u3164",
      "\u2800\u2800",
      "ada\u{E0041}",
    ],
    error: INVISIBLE,
    code: "bad_name",
  },
  {
    what: "control characters",
    names: ["ada\u0007", "\u0000", "a\nb", "ada\t", "\u001B[31mada", "\u0085ada", "\uD800ada"],
    error: CONTROL,
    code: "bad_name",
  },
  {
    what: "nothing but spaces",
    names: ["   ", "\u3000", "\u00A0\u2003 ", ""],
    error: LENGTH,
    code: "bad_name",
  },
  {
    what: "more than 32 characters",
    names: ["n".repeat(33), "ﷺ".repeat(2)],
    error: LENGTH,
    code: "bad_name",
  },
];

function withName(url: string, name: string): string {
  return `${url}?name=${encodeURIComponent(name)}`;
}

function page(url: string): SessionClient<ChatProtocol> {
  return new SessionClient<ChatProtocol>(url, { minDelay: 10, maxDelay: 100, heartbeat: false });
}

/** A page that asks for `name` at connect: the close it gets, before any welcome. */
async function pageRefusedAt(url: string, name: string): Promise<CloseEvent> {
  const c = page(withName(url, name));
  const closed = deferred<CloseEvent>();
  let welcomed = false;
  c.on("welcome", () => void (welcomed = true));
  c.socket.addEventListener("close", (e) => closed.resolve(e as CloseEvent));
  try {
    const e = await within(closed.promise, `the refusal of ${JSON.stringify(name)}`);
    assert(!welcomed, `${JSON.stringify(name)} was welcomed before the refusal`);
    return e;
  } finally {
    c.close();
  }
}

/** A plain client that asks for `name` at connect: the close it gets, with nothing before. */
async function plainRefusedAt(url: string, name: string): Promise<CloseEvent> {
  const c = await TestClient.connect(withName(url, name));
  const e = await within(c.closed, `the refusal of ${JSON.stringify(name)}`);
  assertEquals(c.messages, [], "no welcome before the refusal");
  return e;
}

/** A page that is in the chat under `name`. */
async function joined(server: Server<unknown>, name: string) {
  const c = page(withName(server.url, name));
  const welcome = deferred<string>();
  c.on("welcome", (m) => welcome.resolve(m.name));
  assertEquals(await within(welcome.promise, `${name}'s welcome`), name);
  return c;
}

async function withChat(body: (server: Server<unknown>) => Promise<void>): Promise<void> {
  const server = await serve(chatApp().hooks, { port: 0 }) as Server<unknown>;
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

for (const { what, names, error, code } of CLASSES) {
  test(`chat: a name with ${what} is refused on rename and at connect, pages and plain clients`, async () => {
    await withChat(async (server) => {
      const ada = await joined(server, "ada");
      const plain = await TestClient.connect(server.url);
      assertEquals((await plain.json()).type, "welcome");
      try {
        for (const name of names) {
          const label = JSON.stringify(name);
          const refused = await assertRejects(
            () => ada.request("rename", { name }),
            RemoteError,
            undefined,
            label,
          );
          assertEquals([refused.code, refused.message], [code, error], label);
          plain.send(JSON.stringify({ type: "name", name }));
          assertEquals(await plain.json(), { type: "error", error }, label);
          // An empty ?name= asks for nothing (a guest name); a lone surrogate has no URL.
          if (name === "" || !name.isWellFormed()) continue;
          for (const refusedAt of [pageRefusedAt, plainRefusedAt]) {
            const e = await refusedAt(server.url, name);
            assertEquals([e.code, e.reason], [NAME_REFUSED, error], `${refusedAt.name} ${label}`);
          }
        }
        // None of them stayed, and ada and the plain client kept their names.
        await waitFor(() => server.peers.size === 2, "the refused connections to be gone");
        assertEquals(await ada.request("rename", { name: "ada" }), { name: "ada" });
        plain.send("still guest-1?");
        assertEquals(await plain.json(), {
          type: "message",
          name: "guest-1",
          text: "still guest-1?",
        });
      } finally {
        ada.close();
        await plain.close();
      }
    });
  });
}

test("chat: a name someone online goes by is refused, whatever its case, width or joiners", async () => {
  await withChat(async (server) => {
    const ada = await joined(server, "ada");
    const seen: string[] = [];
    ada.on("joined", (m) => void seen.push(`joined ${m.name}`));
    ada.on("left", (m) => void seen.push(`left ${m.name}`));
    ada.on("renamed", (m) => void seen.push(`renamed ${m.from} ${m.name}`));
    const bob = await joined(server, "bob");
    const plain = await TestClient.connect(withName(server.url, "mallory"));
    assertEquals(await plain.json(), { type: "welcome", name: "mallory", online: 3 });
    try {
      const asAda = ["ada", "Ada", "ADA", "ａｄａ", "a\u200Dda", "ada\uFE0F", " ada "];
      const asMallory = ["mallory", "MALLORY", "ｍａｌｌｏｒｙ"];
      for (const name of [...asAda, ...asMallory]) {
        const label = JSON.stringify(name);
        const refused = await assertRejects(() => bob.request("rename", { name }), RemoteError);
        assertEquals([refused.code, refused.message], ["name_taken", TAKEN], label);
        for (const refusedAt of [pageRefusedAt, plainRefusedAt]) {
          const e = await refusedAt(server.url, name);
          assertEquals([e.code, e.reason], [NAME_TAKEN, TAKEN], `${refusedAt.name} ${label}`);
        }
      }
      for (const name of asAda) {
        plain.send(JSON.stringify({ type: "name", name }));
        assertEquals(await plain.json(), { type: "error", error: TAKEN }, JSON.stringify(name));
      }
      // One's own name in another case is one's own.
      assertEquals(await ada.request("rename", { name: "Ada" }), { name: "Ada" });
      await waitFor(() => seen.includes("renamed ada Ada"), "ada's rename");
      assertEquals(
        seen,
        ["joined bob", "joined mallory", "renamed ada Ada"],
        "no refused newcomer joined or left",
      );
      // A name is free again once its holder has left.
      ada.close();
      await waitFor(() => server.peers.size === 2, "ada's leave");
      assertEquals(await bob.request("rename", { name: "ADA" }), { name: "ADA" });
      const again = await plainRefusedAt(server.url, "ada");
      assertEquals([again.code, again.reason], [NAME_TAKEN, TAKEN]);
    } finally {
      ada.close();
      bob.close();
      await plain.close();
    }
  });
});

test("chat: guest names are never one someone picked", async () => {
  await withChat(async (server) => {
    const picked = await TestClient.connect(withName(server.url, "guest-2"));
    assertEquals(await picked.json(), { type: "welcome", name: "guest-2", online: 1 });
    const first = await TestClient.connect(server.url);
    assertEquals((await first.json()).name, "guest-1");
    const second = await TestClient.connect(server.url);
    assertEquals((await second.json()).name, "guest-3");
    await Promise.all([picked.close(), first.close(), second.close()]);
  });
});
