#!/usr/bin/env -S deno run --allow-net
/**
 * The broadcast chat of the classic tutorials, with its page (`chat.html`) on the same port:
 * a newcomer gets a welcome, everyone else hears that someone joined and later left, and
 * every message reaches everyone, the sender included.
 *
 *     ./examples/chat.ts [flags]      (the shebang runs it on Deno with --allow-net)
 *     deno run --allow-net examples/chat.ts [flags]
 *     bun run examples/chat.ts [flags]
 *
 * `--help` lists the flags: `--port`, `--max-payload`, `--origin`.
 *
 * Then open http://127.0.0.1:8000/ in two windows, or join from a terminal:
 * `wscat -c "ws://127.0.0.1:8000/?name=ada"`, where every line is a message.
 *
 * The server sends JSON text frames: `{type:"welcome", name, online}` to a newcomer,
 * `{type:"join"|"leave", name, online}` to the others, `{type:"message", name, text}` to
 * everyone. A name (`?name=`, else `guest-N`) is one person's: a name someone online goes by
 * (in any case or width), `server`, `system`, and names with control, invisible or
 * direction-changing characters are refused, by closing the connection with 4409 (taken) or
 * 4400 and the reason. (The full rules, emoji joiners allowed, are in `chat_app/names.ts`.)
 * A client that sends binary, a message over 4 KiB or more than 20 a second (40 at once) is
 * closed (1003, 1009, 1008).
 *
 * The full application, where a tab that loses its connection misses nothing, with renames,
 * refusals that keep the connection, Redis and every core, is `examples/chat_app/`
 * (`deno task start:app`).
 *
 * @module
 */

import { type Hooks, type Peer, serve } from "@wskit/wskit";
import page from "./chat.html" with { type: "text" };
import type { Command } from "./_flags.ts";
import { commandLine, LIMITS, onShutdown, PORT, serveOptions, start } from "./_cli.ts";

const CHAT = {
  name: "chat",
  about: "the broadcast chat of the classic tutorials, its page on the same port",
  deno: ["--allow-net"],
  flags: {
    port: PORT,
    ...LIMITS,
    // Every message goes to everyone: keep each one small.
    maxPayload: { ...LIMITS.maxPayload, default: 4096 },
  },
} satisfies Command;

const flags = commandLine(CHAT);

interface Person {
  name: string;
  joined: boolean;
}

/** 1 to 32 letters, marks, digits, punctuation, symbols or spaces, none of them invisible. */
const NAME = /^(?:(?!\p{Default_Ignorable_Code_Point})[\p{L}\p{M}\p{N}\p{P}\p{S} ]){1,32}$/u;
/** Who is online, by what their names are compared by: `Ada`, `ADA` and `ａｄａ` are one. */
const online = new Set<string>();
let guests = 0;

function key(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

function refusal(name: string): [code: number, reason: string] | undefined {
  if (!NAME.test(name) || name.trim() === "") return [4400, "it has 1 to 32 visible characters"];
  if (key(name) === "server" || key(name) === "system") return [4400, "it is the server's"];
  if (online.has(key(name))) return [4409, "someone online goes by it"];
}

/** A `guest-N` name that no one online goes by (someone may have picked `guest-2`). */
function guestName(): string {
  let name;
  do name = `guest-${++guests}`; while (online.has(key(name)));
  return name;
}

/** Sends `event` to everyone in the chat but `peer`, or to everyone with `self`. */
function broadcast(peer: Peer<Person>, event: object, self = false): void {
  peer.publish("chat", JSON.stringify(event), { self });
}

const hooks: Hooks<Person> = {
  upgrade: (request) => ({
    data: { name: new URL(request.url).searchParams.get("name")?.trim() ?? "", joined: false },
  }),
  open(peer) {
    const me = peer.data;
    me.name ||= guestName();
    const refused = refusal(me.name);
    if (refused) return peer.close(refused[0], `Cannot use the name: ${refused[1]}`);
    online.add(key(me.name));
    me.joined = true;
    peer.subscribe("chat");
    peer.send(JSON.stringify({ type: "welcome", name: me.name, online: online.size }));
    broadcast(peer, { type: "join", name: me.name, online: online.size });
  },
  message(peer, text) {
    if (!peer.data.joined) return;
    if (typeof text !== "string") return peer.close(1003, "Cannot read binary messages");
    broadcast(peer, { type: "message", name: peer.data.name, text }, true);
  },
  close(peer) {
    if (!peer.data.joined) return;
    online.delete(key(peer.data.name));
    broadcast(peer, { type: "leave", name: peer.data.name, online: online.size });
  },
};

/** Answers plain HTTP: the page at `/`, nothing else. */
function plain(request: Request): Response {
  return new URL(request.url).pathname === "/"
    ? new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } })
    : new Response("Not Found", { status: 404 });
}

const server = await start(CHAT, [{ listen: flags.port }], () =>
  serve(hooks, {
    ...serveOptions(flags),
    // Every message goes to everyone: each person to 20 a second.
    rateLimit: { messages: 20, burst: 2000 },
    fetch: plain,
  }));

// Signals are handled before the line that says it is ready: a signal may follow at once.
onShutdown(() => server.close());
console.log(`chat listening on ${server.url} (page: ${server.url.replace("ws", "http")})`);
