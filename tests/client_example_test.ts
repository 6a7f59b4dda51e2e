// examples/client.ts as an independent process on the other runtime (a Bun client under
// `deno test`, a Deno client under `bun test`), driven through its standard input, against the
// echo and chat examples that get killed with SIGKILL and restarted on the same port.

import { assertEquals } from "@std/assert";
import { connect, restartExample } from "./_support/client.ts";
import { otherRuntime as other, runtime, test } from "./_support/harness.ts";
import {
  type Child,
  runArgs,
  type RunningExample,
  spawn,
  startExample,
} from "./_support/process.ts";
import { waitFor, within } from "./_support/wait.ts";

function startClient(url: string): Child {
  const [cmd, args] = runArgs(other, "examples/client.ts", [url]);
  return spawn(cmd, args);
}

/** Ends the client with SIGTERM (it closes with 1000 and exits 0), or kills it. */
async function stopClient(client: Child): Promise<number> {
  client.kill("SIGTERM");
  try {
    return await within(client.exited, "the client's exit", 5_000);
  } catch (error) {
    client.kill("SIGKILL");
    await client.exited;
    throw error;
  }
}

async function crash(server: RunningExample): Promise<void> {
  server.child.kill("SIGKILL");
  await server.child.exited;
}

test(
  `examples/client.ts on ${other} keeps talking to the echo example across SIGKILL and restart`,
  async () => {
    let echo = await startExample(runtime, "echo", ["--port", "0"]);
    const client = startClient(echo.url);
    try {
      await client.waitForLine(/^\* open ws:/, 15_000);
      await client.write("before\n");
      await client.waitForLine(/^< before$/);
      await crash(echo);
      await client.waitForLine(/^\* close 1006 abnormal$/);
      await client.waitForLine(/^\* reconnect #1 in \d+ ms$/);
      await client.write("while down 1\nwhile down 2\n");
      await waitFor(
        () => client.lines.filter((l) => l === "* queued until connected").length === 2,
        "both lines queued",
      );
      echo = await restartExample(runtime, "echo", echo.port);
      await client.waitForLine(/^< while down 2$/, 15_000);
      await client.write("after\n");
      await client.waitForLine(/^< after$/);
      assertEquals(client.lines.filter((l) => l.startsWith("< ")), [
        "< before",
        "< while down 1",
        "< while down 2",
        "< after",
      ]);
      assertEquals(await stopClient(client), 0);
      assertEquals(client.lines.at(-1), "* close 1000 clean: bye");
    } finally {
      client.kill("SIGKILL");
      await client.exited;
      await crash(echo);
    }
  },
  { timeout: 40_000 },
);

test(
  `examples/client.ts on ${other}: a second observer sees its chat lines before and after a restart`,
  async () => {
    let chat = await startExample(runtime, "chat", ["--port", "0"]);
    // The observer reconnects fast (up to 100 ms), the example client at its defaults
    // (1-2 s), so the observer is back before the example's queued lines go out.
    const [observer, rec] = connect(chat.url);
    const said = () =>
      rec.messages
        .map((m) => JSON.parse(m as string) as { type: string; text?: string })
        .filter((m) => m.type === "message")
        .map((m) => m.text);
    const client = startClient(chat.url);
    try {
      await rec.next("open", 1);
      await client.waitForLine(/^\* open ws:/, 15_000);
      await client.write("hello from the example\n");
      await waitFor(() => said().length === 1, "the first line at the observer");
      await crash(chat);
      await client.waitForLine(/^\* close 1006 abnormal$/);
      await client.write("typed while the chat was down\n");
      await client.waitForLine(/^\* queued until connected$/);
      chat = await restartExample(runtime, "chat", chat.port);
      await rec.next("open", 2, 10_000);
      await waitFor(() => said().length === 2, "the queued line at the observer", 15_000);
      await client.write("and after\n");
      await waitFor(() => said().length === 3, "the last line at the observer");
      assertEquals(said(), [
        "hello from the example",
        "typed while the chat was down",
        "and after",
      ]);
      assertEquals(await stopClient(client), 0);
    } finally {
      observer.close();
      client.kill("SIGKILL");
      await client.exited;
      await crash(chat);
    }
  },
  { timeout: 40_000 },
);
