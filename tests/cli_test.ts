// The examples as commands: `--help`, a wrong command line, a port in use and a missing Deno
// permission (with a terminal or without) each end in one line and a documented exit code,
// never a prompt or a stack trace; a signal ends a server soon (times printed) even when a
// client never answers its close; the shebang runs `./examples/chat.ts` on Deno. Children run
// on the runtime of the test; what is Deno's alone runs on Deno only. The flag parser they
// share (examples/_flags.ts) is tried in-process first.
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { type Command, parse, usage, UsageError } from "../examples/_flags.ts";
import { readText } from "./_support/files.ts";
import { env, runtime, test } from "./_support/harness.ts";
import { rawWebSocket } from "./_support/raw_ws.ts";
import {
  buildBrowserModule,
  type Child,
  root,
  runArgs,
  runtimeBin,
  signalled,
  spawn,
  startExample,
  waitForStart,
} from "./_support/process.ts";
import { freePort, listenTcp } from "./_support/tcp.ts";
import { within } from "./_support/wait.ts";

const DEMO = {
  name: "demo",
  about: "a command line to try the parser on",
  deno: ["--allow-net"],
  flags: {
    port: { type: "integer", value: "N", min: 0, max: 65535, default: 8000, help: "a port" },
    maxPayload: { type: "integer", value: "BYTES", min: 1, help: "a size" },
    hello: { type: "boolean", help: "a switch" },
    origin: { type: "list", value: "ORIGIN", help: "a list" },
    name: {
      type: "string",
      value: "NAME",
      help: "a checked text",
      check: (v) => (v === "bad" ? "must not be bad" : undefined),
    },
    url: { type: "operand", value: "URL", help: "an operand", default: "ws://x/" },
  },
} satisfies Command;

test("examples/_flags.ts parse() reads the declared flags, with their defaults", () => {
  assertEquals(parse(DEMO.flags, []), {
    port: 8000,
    maxPayload: undefined,
    hello: false,
    origin: [],
    name: undefined,
    url: "ws://x/",
  });
  const argv = ["--port=0", "--hello", "--origin", "a", "ws://y/", "--origin=b", "--port", "9"];
  const values = parse(DEMO.flags, [...argv, "--max-payload", "10", "--name", "ada"]);
  assertEquals(values, {
    port: 9,
    maxPayload: 10,
    hello: true,
    origin: ["a", "b"],
    name: "ada",
    url: "ws://y/",
  });
  assertEquals(parse(DEMO.flags, ["--prot", "1", "-h"]), "help");
  assertEquals(parse(DEMO.flags, ["--help"]), "help");
});

test("examples/_flags.ts parse() refuses what its declaration does not allow, saying why", () => {
  const refused: [string[], string][] = [
    [["--prot", "9001"], "unknown flag --prot; did you mean --port?"],
    [["--wat"], "unknown flag --wat"],
    [["-p", "1"], "unknown flag -p"],
    [["--port"], "--port needs a value (N)"],
    [["--port", "--hello"], "--port needs a value (N)"],
    [["--port", "abc"], "--port must be a whole number from 0 to 65535, got abc"],
    [["--port", "70000"], "--port must be a whole number from 0 to 65535, got 70000"],
    [["--port", "8e3"], "--port must be a whole number from 0 to 65535, got 8e3"],
    [["--port="], '--port must be a whole number from 0 to 65535, got ""'],
    [["--max-payload", "-5"], "--max-payload must be a whole number of 1 or more, got -5"],
    [["--max-payload", "0"], "--max-payload must be a whole number of 1 or more, got 0"],
    [
      ["--max-payload", "1".repeat(20)],
      `--max-payload must be a whole number of 1 or more, got ${"1".repeat(20)}`,
    ],
    [["--hello=yes"], "--hello takes no value"],
    [["--name", "bad"], "--name must not be bad, got bad"],
    // A value with a line break is shown escaped: the refusal stays one line.
    [["--port", "a\nb"], '--port must be a whole number from 0 to 65535, got "a\\nb"'],
    [["ws://a/", "ws://b/"], "unexpected argument ws://b/"],
  ];
  for (const [argv, reason] of refused) {
    const error = assertThrows(() => parse(DEMO.flags, argv), UsageError);
    assertEquals(error.message, reason, JSON.stringify(argv));
  }
});

test("examples/_flags.ts usage() lists every declared flag with its value, help and default", () => {
  const text = usage(DEMO, { deno: "deno run --allow-net demo.ts", bun: "bun run demo.ts" });
  const lines = text.split("\n");
  assertEquals(lines[0], "demo: a command line to try the parser on");
  assert(lines.includes("Usage: deno run --allow-net demo.ts [flags] [URL]"), text);
  assert(lines.includes("       bun run demo.ts [flags] [URL]"), text);
  const rows = [
    "Flags:",
    "  --port N             a port (default: 8000)",
    "  --max-payload BYTES  a size",
    "  --hello              a switch",
    "  --origin ORIGIN      a list (repeatable)",
    "  --name NAME          a checked text",
    "  URL                  an operand (default: ws://x/)",
    "  -h, --help           print this help and exit",
  ];
  assertEquals(lines.slice(lines.indexOf("Flags:"), lines.indexOf("Flags:") + rows.length), rows);
  assert(lines.at(-2)!.startsWith("Exit status: 0 after Ctrl-C or SIGTERM, 1 "), text);
});

/** Each example, the flags its help must list, and a wrong command line of its own. */
const EXAMPLES = [
  { name: "echo", flags: ["--port N", "--hello", "--max-payload BYTES", "--origin ORIGIN"] },
  { name: "chat", flags: ["--port N", "--max-payload BYTES", "--origin ORIGIN"] },
  {
    name: "chat_app/main",
    flags: ["--port N", "--redis URL", "--max-payload BYTES", "--origin ORIGIN"],
  },
  { name: "client", flags: ["--no-heartbeat", "URL"] },
];

/** The name an example prints its lines under. */
function label(example: string): string {
  return example.replace("/main", "");
}

/** Runs `examples/<name>.ts` on this runtime to its end (within 15 s); returns the child. */
async function run(
  name: string,
  args: string[],
  denoFlags?: string[],
): Promise<Child & { code: number }> {
  const [cmd, argv] = runArgs(runtime, `examples/${name}.ts`, args, {
    ...(denoFlags && { deno: denoFlags }),
  });
  return await ended(spawn(cmd, argv), `${name} ${args.join(" ")}`);
}

/** Waits (up to 15 s) for `child` to end by itself; kills it if it does not. */
async function ended(child: Child, what: string): Promise<Child & { code: number }> {
  try {
    const code = await within(child.exited, `the end of ${what}`, 15_000);
    return Object.assign(child, { code });
  } catch (error) {
    child.kill("SIGKILL");
    await child.exited;
    throw error;
  }
}

/** Asserts that `child` printed exactly one line, on stderr, matching `re`, and exited `code`. */
function assertOneLine(child: Child & { code: number }, re: RegExp, code: number): string {
  const output = `output:\n${child.lines.join("\n")}`;
  assertEquals(child.lines.length, 1, output);
  assertEquals(child.stderr(), `${child.lines[0]}\n`, `the line is on stderr; ${output}`);
  assertMatch(child.lines[0]!, re);
  assertEquals(child.code, code, `the exit code; ${output}`);
  return child.lines[0]!;
}

test(`every example on ${runtime} prints its usage for --help (and -h) and exits 0`, async () => {
  for (const { name, flags } of EXAMPLES) {
    for (const help of name === "echo" ? ["--help", "-h"] : ["--help"]) {
      const child = await run(name, [help]);
      const output = `output of ${name} ${help}:\n${child.lines.join("\n")}`;
      assertEquals([child.code, child.stderr()], [0, ""], output);
      assertEquals(child.lines[0]!.startsWith(`${label(name)}: `), true, output);
      const tail = `[flags]${name === "client" ? " [URL]" : ""}`;
      assert(
        child.lines.includes(`Usage: deno run --allow-net examples/${name}.ts ${tail}`),
        output,
      );
      assert(child.lines.includes(`       bun run examples/${name}.ts ${tail}`), output);
      for (const flag of [...flags, "-h, --help"]) {
        assert(child.lines.some((l) => l.startsWith(`  ${flag}  `)), `${flag} in ${output}`);
      }
    }
  }
}, { timeout: 60_000 });

test(
  `the examples on ${runtime} refuse a wrong command line in one line on stderr and exit 2`,
  async () => {
    const cases: [string, string[], string][] = [
      ["echo", ["--prot", "9001"], "unknown flag --prot; did you mean --port?"],
      ["echo", ["--port", "abc"], "--port must be a whole number from 0 to 65535, got abc"],
      ["echo", ["--port", "70000"], "--port must be a whole number from 0 to 65535, got 70000"],
      ["echo", ["--port"], "--port needs a value (N)"],
      [
        "echo",
        ["--max-payload", "-5"],
        "--max-payload must be a whole number of 1 or more, got -5",
      ],
      [
        "echo",
        ["--origin", "evil"],
        "--origin must be * or an origin such as https://example.com, got evil",
      ],
      ["chat", ["--prot", "9001"], "unknown flag --prot; did you mean --port?"],
      ["chat", ["8000"], "unexpected argument 8000"],
      ["chat_app/main", ["--redis", "localhost"], "--redis must be a redis: URL, got localhost"],
      [
        "client",
        ["localhost:8000"],
        "the URL must be a ws:, wss:, http: or https: URL, got localhost:8000",
      ],
      ["client", ["--heartbeat"], "unknown flag --heartbeat"],
    ];
    for (const [name, args, reason] of cases) {
      const child = await run(name, args);
      const line = `${label(name)}: Cannot start: ${reason} (see --help)`;
      assertEquals(assertOneLine(child, /\(see --help\)$/, 2), line);
    }
  },
  { timeout: 60_000 },
);

test(
  `the server examples on ${runtime} say which port is in use, in one line, and exit 1`,
  async () => {
    await buildBrowserModule();
    const taken = listenTcp(0, (conn) => conn.close());
    try {
      for (const name of ["echo", "chat", "chat_app/main"]) {
        const child = await run(name, ["--port", String(taken.port)]);
        const line = `${label(name)}: Cannot listen on 127.0.0.1:${taken.port}: the port is in use`;
        assertEquals(assertOneLine(child, /in use$/, 1), line);
      }
    } finally {
      taken.close();
    }
  },
  { timeout: 60_000 },
);

test(
  `the servers among the examples on ${runtime} end soon after SIGINT and SIGTERM, even with ` +
    "a client that never answers their close; so does the client while it reconnects",
  async () => {
    const times: string[] = [];
    for (const name of ["echo", "chat", "chat_app/main", "client"]) {
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        let child: Child;
        if (name === "client") {
          // Nothing listens there: the client is between attempts when the signal comes.
          const url = `ws://127.0.0.1:${freePort()}/`;
          child = spawn(...runArgs(runtime, "examples/client.ts", [url]));
          await waitForStart(child, /^\* reconnect #1 in/);
        } else {
          const example = await startExample(runtime, name, ["--port", "0"]);
          child = example.child;
          await rawWebSocket(example.port); // it reads the close frame, and never answers
        }
        try {
          const end = await signalled(child, signal);
          times.push(`${name} ${signal} ${end.ms} ms`);
          assertEquals(end.code, 0, `the exit code; output:\n${child.lines.join("\n")}`);
          // The examples aim at a second (tests/shutdown_test.ts prints the times with a
          // client that answers); the bound is loose for a busy machine. serve()'s default
          // closeTimeout alone would take 3 s here.
          assert(end.ms < 5_000, `${name} took ${end.ms} ms to end after ${signal}`);
        } finally {
          child.kill("SIGKILL");
          await child.exited;
        }
      }
    }
    console.log(`signal to exit on ${runtime}: ${times.join(", ")}`);
  },
  { timeout: 120_000 },
);

test(
  "the examples on Deno without --allow-net, and without a terminal, print the command that " +
    "has it and exit 2; that command starts them",
  async () => {
    const redis = ["--port", "0", "--redis", "redis://localhost:6390"];
    // [example, its arguments, what it may not do, Deno's flags]
    const cases: [string, string[], string, string[]][] = [
      ["echo", ["--port", "0", "--hello"], "listen on 127.0.0.1:0", []],
      ["chat", ["--port", "0"], "listen on 127.0.0.1:0", []],
      ["chat_app/main", redis, "listen on 127.0.0.1:0", []],
      // Each use is checked: here it may listen, but not reach its Redis.
      ["chat_app/main", redis, "connect to localhost:6390", ["--allow-net=127.0.0.1"]],
      ["client", ["ws://127.0.0.1:1/"], "connect to 127.0.0.1:1", []],
    ];
    for (const [name, args, what, flags] of cases) {
      const child = await run(name, args, flags);
      const command = `deno run --allow-net examples/${name}.ts ${args.join(" ")}`;
      const line = `${label(name)}: Cannot ${what}: Deno needs --allow-net; run it as ${command}`;
      assertEquals(assertOneLine(child, /^\S+: Cannot /, 2), line);
      if (name === "client" || name === "chat_app/main") continue;
      const [deno, ...rest] = command.split(" ");
      assertEquals(deno, "deno");
      const started = spawn(runtimeBin("deno"), rest);
      try {
        await waitForStart(started, /listening on ws:\/\/127\.0\.0\.1:\d+\//);
      } finally {
        started.kill("SIGKILL");
        await started.exited;
      }
    }
  },
  { timeout: 60_000, only: "deno" /* Deno's permissions; Bun has none */ },
);

test(
  "examples/chat.ts on Deno without --allow-net, in a terminal, does not prompt: it prints " +
    "the command that has it and exits 2",
  async () => {
    // `script` gives the child a terminal, where Deno would ask for the permission and wait.
    const deno = `${runtimeBin("deno")} run ${root}examples/chat.ts --port 0`;
    const child = spawn("script", ["-qec", deno, "/dev/null"]);
    const prompted = await Promise.race([
      child.exited.then(() => undefined),
      child.waitForLine(/Deno requests/, 15_000).catch(() => undefined),
    ]);
    if (prompted !== undefined) {
      child.kill("SIGKILL");
      await child.exited;
    }
    const output = `output:\n${child.lines.join("\n")}`;
    assertEquals(prompted, undefined, `it prompted; ${output}`);
    const end = await ended(child, "chat.ts in a terminal");
    const line = "chat: Cannot listen on 127.0.0.1:0: Deno needs --allow-net; run it as " +
      "deno run --allow-net examples/chat.ts --port 0";
    assertEquals(child.lines.map((l) => l.replace(/\r$/, "")).filter(Boolean), [line], output);
    assertEquals(end.code, 2, output);
  },
  { timeout: 30_000, requires: ["script"], only: "deno" /* Deno's permission prompt */ },
);

test(
  "./examples/chat.ts, ./examples/echo.ts and ./examples/client.ts run on Deno by their " +
    "shebang, with the permissions their usage names: --help, and the servers listen",
  async () => {
    const path = `${root}node_modules/.bin:${env("PATH") ?? ""}`;
    for (const name of ["chat", "echo", "client"]) {
      const file = `${root}examples/${name}.ts`;
      const shebang = (await readText(file))?.split("\n")[0];
      assertEquals(shebang, "#!/usr/bin/env -S deno run --allow-net");
      const help = await ended(spawn(file, ["--help"], { PATH: path }), `${name} --help`);
      assertEquals(help.code, 0, `${name} --help by its shebang:\n${help.lines.join("\n")}`);
      const usageLine = help.lines.find((l) => l.startsWith("Usage: deno run "));
      const tail = name === "client" ? "[flags] [URL]" : "[flags]";
      assertEquals(usageLine, `Usage: deno run --allow-net examples/${name}.ts ${tail}`);
      if (name === "client") continue;
      const server = spawn(file, ["--port", "0"], { PATH: path });
      try {
        const line = await waitForStart(server, /ws:\/\/127\.0\.0\.1:\d+\//);
        if (name === "chat") {
          const page = await fetch(/http:\/\/\S+\//.exec(line)![0]);
          assertEquals(page.status, 200);
          await page.body?.cancel();
        }
        const end = await signalled(server, "SIGTERM");
        assertEquals(end.code, 0, `${name} after SIGTERM:\n${server.lines.join("\n")}`);
      } finally {
        server.kill("SIGKILL");
        await server.exited;
      }
    }
  },
  { timeout: 60_000, only: "deno" /* a shebang line that names Deno */ },
);
