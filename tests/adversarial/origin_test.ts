// The default origin check against what an attacker controls: the Host header (DNS
// rebinding), the scheme and the port, forwarding headers from someone who is not a trusted
// proxy; and the options that state where the server is really reached.

import { assertEquals, assertLess } from "@std/assert";
import type { Hooks, ServeOptions } from "@wskit/wskit";
import { test } from "../_support/harness.ts";
import { withServer } from "../_support/serve.ts";
import { rawHttp, upgradeRequest } from "../_support/tcp.ts";

const hooks: Hooks = {};

/** The status of an upgrade with these headers on a fresh server with `options`. */
async function statuses(
  options: ServeOptions,
  cases: (port: number) => [string, Record<string, string>, number][],
): Promise<void> {
  await withServer(hooks, async (server) => {
    for (const [label, headers, expected] of cases(server.port)) {
      const res = await rawHttp(server.port, upgradeRequest("/", headers));
      assertEquals(res.status, expected, label);
    }
  }, options);
}

test("origin: DNS rebinding (Host and Origin both the attacker's name) is refused on loopback", async () => {
  await statuses({}, (port) => [
    [
      "rebinding pair",
      { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
      403,
    ],
    ["same origin", { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }, 101],
    ["localhost", { host: `localhost:${port}`, origin: `http://localhost:${port}` }, 101],
    ["IPv6 loopback", { host: `[::1]:${port}`, origin: `http://[::1]:${port}` }, 101],
    ["no Origin: not a browser", { host: `evil.example:${port}` }, 101],
  ]);
});

test("origin: a different scheme or port is refused; ws and wss count as http and https", async () => {
  await statuses({}, (port) => [
    ["https page", { host: `127.0.0.1:${port}`, origin: `https://127.0.0.1:${port}` }, 403],
    ["wss page", { host: `127.0.0.1:${port}`, origin: `wss://127.0.0.1:${port}` }, 403],
    ["ws page", { host: `127.0.0.1:${port}`, origin: `ws://127.0.0.1:${port}` }, 101],
    ["next port", { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port + 1}` }, 403],
    ["no port", { host: `127.0.0.1:${port}`, origin: "http://127.0.0.1" }, 403],
    ["default port", { host: "localhost:80", origin: "http://localhost" }, 101],
  ]);
});

test("origin: publicOrigins accepts the stated origins whatever the Host says, and only them", async () => {
  await statuses({ publicOrigins: ["https://Chat.Example"] }, (port) => [
    ["public", { host: `127.0.0.1:${port}`, origin: "https://chat.example" }, 101],
    ["public, explicit port", { host: "chat.example", origin: "https://chat.example:443" }, 101],
    ["other scheme", { host: "chat.example", origin: "http://chat.example" }, 403],
    ["other site", { host: "evil.example", origin: "https://evil.example" }, 403],
    ["own origin", { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }, 101],
  ]);
});

test("origin: X-Forwarded-Proto and -Host count only from a trusted proxy", async () => {
  const behind = (port: number, origin: string) => ({
    host: `127.0.0.1:${port}`,
    "x-forwarded-proto": "https",
    "x-forwarded-host": "chat.example",
    origin,
  });
  await statuses({}, (port) => [
    ["untrusted, forwarded origin", behind(port, "https://chat.example"), 403],
    ["untrusted, https page on the socket's host", {
      host: `127.0.0.1:${port}`,
      "x-forwarded-proto": "https",
      origin: `https://127.0.0.1:${port}`,
    }, 403],
  ]);
  for (const trustProxy of [["127.0.0.1"], true, (a: string) => a === "127.0.0.1"]) {
    await statuses({ trustProxy }, (port) => [
      ["trusted, forwarded origin", behind(port, "https://chat.example"), 101],
      ["trusted, http page", behind(port, "http://chat.example"), 403],
      ["trusted, other site", behind(port, "https://evil.example"), 403],
    ]);
  }
  await statuses({ trustProxy: ["10.0.0.1"] }, (port) => [
    ["another proxy trusted", behind(port, "https://chat.example"), 403],
  ]);
});

test("origin: a refusal quotes a long Origin only in part", async () => {
  await withServer(hooks, async (server) => {
    const origin = `https://${"x".repeat(5_000)}.example`;
    const res = await rawHttp(server.port, upgradeRequest("/", { origin }));
    assertEquals(res.status, 403);
    assertLess(res.body.length, 300);
  });
});
