/**
 * Memory of the session layer, per idle session and per room membership (issue 13): a server
 * process (`servers/session_memory_server.ts`, Deno and Bun in turn) is read after a forced
 * garbage collection at each step, while this process holds the clients:
 *
 * 0. nothing connected (after a warm-up that runs every path 200 times, so that the code it
 *    compiles is not counted);
 * 1. N plain WebSocket connections;
 * 2. those closed, N session connections that said hello (idle sessions);
 * 3. each session in 10 rooms (`room-<i%50>-<k>`: each room shared by N/50 sessions);
 * 4. the clients gone without a bye: N sessions waiting within their window, still in their
 *    rooms.
 *
 * Per connection: (1 − 0)/N; per idle session over a plain connection: (2 − 1)/N, and in all
 * (2 − 0)/N; per membership: (3 − 2)/(10·N); per waiting session (its 10 rooms and its log
 * included): (4 − 0)/N. The heap figures are the ones to hold to; RSS, second, also counts
 * what the runtime keeps outside the heap (sockets, Bun's native topics) and what the
 * allocator has not returned, and moves with other load on the machine. Bun's heap figure
 * leaves out the characters of strings (JavaScriptCore keeps them outside its heap), so it
 * reads low where strings dominate (the store's log entries).
 *
 * Usage: `deno run -A bench/session_memory.ts [--quick] [--conns N] [--runtime deno|bun]`, or
 * the same with `bun bench/session_memory.ts`. N is 2000, 200 with `--quick`.
 *
 * @module
 */

import { args, exit, onSignal } from "../tests/_support/this_process.ts";
import { type Child, killAll, runArgs, spawn, waitForStart } from "../tests/_support/process.ts";
import { helloSession, TestClient, type Welcome } from "../tests/_support/ws.ts";
import { clientFrame, readServerFrame } from "../tests/_support/session_wire.ts";
import { within } from "../tests/_support/wait.ts";

type Runtime = "deno" | "bun";

const argv = args();
const option = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes("--quick");
const N = Number(option("conns") ?? (quick ? 200 : 2000));
const picked = option("runtime");
const RUNTIMES: Runtime[] = picked ? [picked as Runtime] : ["deno", "bun"];
if (!(N >= 50) || !RUNTIMES.every((r) => r === "deno" || r === "bun")) {
  console.error("Cannot measure: --conns must be >= 50 and --runtime deno or bun");
  exit(2);
}
const ROOMS = 10;
/** Connections opened at once: enough to be quick, few enough not to time out on a busy box. */
const BATCH = 100;
/** Clients of the warm-up: enough for the hot paths to be optimized before the steps. */
const WARM = 200;
const SERVER = "bench/servers/session_memory_server.ts";

/** A server's reading at one step. */
interface Reading {
  heap: number;
  rss: number;
  external: number;
  store: number;
}

/** Runs `fn` over `items`, `BATCH` at a time. */
async function batched<T, R>(items: T[], fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += BATCH) {
    out.push(...await Promise.all(items.slice(i, i + BATCH).map((x, j) => fn(x, i + j))));
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Joins `ROOMS` rooms and waits for the confirmation of all of them (no join refused). */
async function joinRooms(raw: TestClient, welcome: Welcome, i: number): Promise<void> {
  for (let k = 0; k < ROOMS; k++) raw.send(clientFrame({ t: "j", r: `room-${i % 50}-${k}` }));
  await raw.until((m) => {
    const f = readServerFrame(m) as Record<string, unknown> | undefined;
    if (f?.t === "res" && f.err !== undefined) {
      throw new Error(`Cannot join: ${JSON.stringify(f.err)}`);
    }
    return f?.t === "ack" && (f.q as number) >= welcome.q + ROOMS;
  }, 30_000);
}

/** Closes every client (no bye: a session waits within its window). */
async function closeAll(clients: TestClient[]): Promise<void> {
  await batched(clients, (c) => c.close());
}

/** Asks the server for a reading once its counts are `want`. */
async function read(server: Child, label: string, want: string): Promise<Reading> {
  const line = server.nextLine(new RegExp(`^(step|error) ${label} `), 150_000);
  await server.write(`step ${label} ${want}\n`);
  const got = await line;
  if (got.startsWith("error")) throw new Error(`Cannot read the server: ${got}`);
  const field = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(got)![1]);
  return {
    heap: field("heap"),
    rss: field("rss"),
    external: field("external"),
    store: field("store"),
  };
}

/** Every path (plain, session, rooms, a resume, a bye) `WARM` times. */
async function warmUp(url: string): Promise<void> {
  const plain = await batched(range(WARM), () => TestClient.connect(url));
  await closeAll(plain);
  await batched(range(WARM), async (i) => {
    const [raw, welcome] = await helloSession(url);
    await joinRooms(raw, welcome, i);
    await raw.close();
    const [again] = await helloSession(url, { sid: welcome.sid });
    again.send(clientFrame({ t: "bye" }));
    await again.closed;
  });
}

/** The readings of one server runtime at steps 0 to 4. */
async function measure(runtime: Runtime): Promise<Reading[]> {
  const server = spawn(
    ...runArgs(runtime, SERVER, [], { deno: ["--allow-net", "--v8-flags=--expose-gc"] }),
  );
  const port = Number((await waitForStart(server, /^ready \d+$/)).slice(6));
  const url = `ws://127.0.0.1:${port}/`;
  const open: TestClient[] = [];
  const readings: Reading[] = [];
  try {
    await warmUp(url);
    readings.push(await read(server, "0-empty", "plain=0 sessions=0 connected=0 rooms=0"));
    const plain = await batched(range(N), () => TestClient.connect(url));
    open.push(...plain);
    readings.push(await read(server, "1-plain", `plain=${N} sessions=0`));
    await closeAll(plain);
    const sessions = await batched(range(N), () => helloSession(url));
    open.push(...sessions.map(([raw]) => raw));
    readings.push(await read(server, "2-idle", `plain=0 sessions=${N} connected=${N} rooms=0`));
    await batched(sessions, ([raw, welcome], i) => joinRooms(raw, welcome, i));
    readings.push(await read(server, "3-rooms", `sessions=${N} rooms=${ROOMS * N}`));
    await closeAll(sessions.map(([raw]) => raw));
    readings.push(await read(server, "4-waiting", `sessions=${N} connected=0 rooms=${ROOMS * N}`));
    return readings;
  } finally {
    await batched(open, (c) => c.close().catch(() => {}));
    await server.write("exit\n").catch(() => {});
    await within(server.exited, `the exit of the ${runtime} server`, 10_000)
      .catch(() => server.stop());
  }
}

/** Figures per unit from a runtime's readings, for one measure (`heap` or `rss`). */
function perUnit(r: Reading[], key: "heap" | "rss"): Record<string, number> {
  const d = (a: number, b: number) => r[b]![key] - r[a]![key];
  return {
    connection: d(0, 1) / N,
    sessionOverPlain: d(1, 2) / N,
    idleSession: d(0, 2) / N,
    membership: d(2, 3) / (ROOMS * N),
    waitingSession: d(0, 4) / N,
  };
}

const LABELS: Record<string, string> = {
  connection: "plain connection",
  sessionOverPlain: "idle session, over a plain connection",
  idleSession: "idle session, connection included",
  membership: "room membership",
  waitingSession: `waiting session (${ROOMS} rooms, log)`,
};

/**
 * The targets, in bytes of heap after a forced GC, set from the measurements after the wire v3
 * and the flat log strings (N=2000, 2026-11-29: Deno 1420 / 225 / 2588 B, Bun 1027 / 392 /
 * 3064 B) with about 25 % of headroom: what a change must not exceed.
 */
const TARGETS: Record<Runtime, Record<string, number>> = {
  deno: { sessionOverPlain: 1792, membership: 320, waitingSession: 3328 },
  bun: { sessionOverPlain: 1280, membership: 512, waitingSession: 3840 },
};

onSignal("SIGINT", () => void killAll().finally(() => exit(130)));
const client = "Bun" in globalThis ? "bun" : "deno";
console.log(`Session memory: N=${N}, ${ROOMS} rooms each, clients on ${client}`);
const results: Record<string, Reading[]> = {};
for (const runtime of RUNTIMES) {
  const readings = await measure(runtime);
  results[runtime] = readings;
  for (const [i, r] of readings.entries()) {
    console.log(
      `  ${runtime} step ${i}: heap=${r.heap} rss=${r.rss} external=${r.external} store=${r.store}`,
    );
  }
}
const pad = (s: string, n: number) => s.padStart(n);
console.log(`\nBytes per unit (heap after a forced GC; RSS second, noisier):`);
console.log(
  `${"".padEnd(40)}${RUNTIMES.map((r) => pad(`${r} heap`, 11) + pad(`${r} rss`, 11)).join("")}`,
);
for (const [key, label] of Object.entries(LABELS)) {
  const cells = RUNTIMES.map((r) => {
    const heap = perUnit(results[r]!, "heap")[key]!;
    const rss = perUnit(results[r]!, "rss")[key]!;
    return pad(heap.toFixed(0), 11) + pad(rss.toFixed(0), 11);
  });
  console.log(`${label.padEnd(40)}${cells.join("")}`);
}
console.log(
  "RSS does not fall when connections close (allocators keep their pages): the waiting row's" +
    " RSS is the high-water mark of step 3, not what a waiting session costs.",
);
for (const r of RUNTIMES) {
  const store = results[r]![4]!.store;
  console.log(
    `${r}: the store counts ${store} bytes of frames at step 4, ${(store / N).toFixed(0)} per` +
      ` session (characters of text: the heap holds more, see the waiting row)`,
  );
  const figures = { heap: perUnit(results[r]!, "heap"), rss: perUnit(results[r]!, "rss") };
  for (const [key, limit] of Object.entries(TARGETS[r])) {
    const got = figures.heap[key]!;
    console.log(
      `${r}: ${LABELS[key]} ${got.toFixed(0)} B of heap, target <= ${limit} B: ${
        got <= limit ? "holds" : "MISSED"
      }`,
    );
  }
  console.log(`result ${r} ${JSON.stringify({ n: N, ...figures, storePerSession: store / N })}`);
}
exit(0);
