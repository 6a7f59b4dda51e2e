// Presence across instances (Deno and Bun mixed) on one Redis, each instance a child process
// (tests/fixtures/presence_node.ts): random joins and leaves converge to the true membership
// at every client and instance; the members of a SIGKILLed instance leave everyone's view
// within the lease's bound; a client that moves to another instance within the window makes
// no leave or join; a Redis outage (restarted empty) converges to the true membership.

import { assertEquals } from "@std/assert";
import { type PresenceEvent, SessionClient } from "@wskit/wskit/session-client";
import { otherRuntime as other, runtime, test } from "./_support/harness.ts";
import { type RedisServer, startRedis } from "./_support/redis.ts";
import { pause, waitFor } from "./_support/wait.ts";
import { type Node, startNode } from "./adversarial/_nodes.ts";

const ROOM = "r";
/** A short lease, so that a dead instance's members go within about two seconds. */
const LEASE = 1500;
/** The documented bound: the lease, plus the third of it between two heartbeats. */
const BOUND = LEASE + LEASE / 3;

function startPresenceNode(r: "deno" | "bun", url: string): Promise<Node> {
  return startNode(r, url, 10_000, "tests/fixtures/presence_node.ts", [String(LEASE)]);
}

/** A client whose presence events are recorded. */
interface Peer {
  client: SessionClient;
  events: string[];
  node: number;
  joined: boolean;
  data: unknown;
}

function connect(url: string | (() => string), node: number): Peer {
  const client = new SessionClient(url, { minDelay: 50, maxDelay: 500 });
  const events: string[] = [];
  client.addEventListener("presence", (e: PresenceEvent) => {
    events.push(`${e.change} ${e.id} ${JSON.stringify(e.data)}`);
  });
  return { client, events, node, joined: false, data: undefined };
}

/** The membership as it is: the public ids of the peers in the room, with their data. */
function truth(peers: Peer[]): string {
  return JSON.stringify(
    peers.filter((p) => p.joined).map((p) => [p.client.id, p.data ?? null]).sort(),
  );
}

function view(p: Peer): string {
  return JSON.stringify([...p.client.presence(ROOM)].sort());
}

async function nodeView(node: Node): Promise<string> {
  const response = await fetch(`${node.url.replace(/^ws/, "http")}?room=${ROOM}`);
  const { members } = await response.json() as { members: { id: string; data: unknown }[] };
  return JSON.stringify(members.map((m) => [m.id, m.data]).sort());
}

/** Waits until every peer in the room (and every instance in `nodes`) sees the truth. */
async function converged(peers: Peer[], nodes: Node[], timeout = 20_000): Promise<void> {
  const want = truth(peers);
  let nodesSee: string[] = [];
  try {
    await waitFor(
      () => peers.every((p) => !p.joined || view(p) === want),
      "every client to see the true membership",
      timeout,
    );
    // Polled as waitFor polls, but each look asks every instance.
    const end = Date.now() + timeout;
    while (true) {
      nodesSee = await Promise.all(nodes.map(nodeView));
      if (nodesSee.every((v) => v === want)) break;
      if (Date.now() > end) throw new Error("Timed out waiting for every instance's view");
      await pause(20);
    }
  } catch (error) {
    const wrong = peers.filter((p) => p.joined && view(p) !== want).map((p) =>
      `${p.client.id}@${p.node}: ${view(p)} ${p.events.join(" | ")}`
    );
    throw new Error(
      `${(error as Error).message}\nwant ${want}\nclients: ${wrong.join("\n")}\nnodes: ${nodesSee}`,
    );
  }
}

/** A small seeded generator (mulberry32), so that a failing run can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Instances on `runtimes` with one Redis, and their clients, for `body`; all stopped after. */
async function withCluster(
  runtimes: ("deno" | "bun")[],
  body: (redis: RedisServer, nodes: Node[], peers: Peer[]) => Promise<void>,
): Promise<void> {
  const redis = await startRedis();
  const nodes: Node[] = [];
  const peers: Peer[] = [];
  try {
    for (const r of runtimes) nodes.push(await startPresenceNode(r, redis.url));
    await body(redis, nodes, peers);
  } finally {
    for (const p of peers) p.client.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  }
}

/** Every peer joins, showing `{ i }` (its index). */
async function joinAll(peers: Peer[]): Promise<void> {
  await Promise.all(peers.map((p, i) => {
    p.joined = true;
    p.data = { i };
    return p.client.join(ROOM, { presence: p.data, timeout: 15_000 });
  }));
}

test(
  "presence: 3 instances (Deno and Bun) on one Redis, 30 clients joining and leaving at random: every client and instance ends with the true membership",
  () =>
    withCluster([runtime, other, runtime], async (_redis, nodes, peers) => {
      const seed = Date.now() % 100_000;
      const rand = random(seed);
      for (let i = 0; i < 30; i++) peers.push(connect(nodes[i % 3]!.url, i % 3));
      await Promise.all(peers.map(async (p, i) => {
        for (let step = 0; step < 5; step++) {
          const roll = rand();
          if (!p.joined) {
            p.data = { i, step };
            p.joined = true;
            await p.client.join(ROOM, { presence: p.data, timeout: 15_000 });
          } else if (roll < 0.4) {
            p.joined = false;
            p.data = undefined;
            await p.client.leave(ROOM, { timeout: 15_000 });
          } else if (roll < 0.7) {
            p.data = { i, step, status: "busy" };
            await p.client.setPresence(ROOM, p.data, { timeout: 15_000 });
          }
        }
      }));
      await converged(peers, nodes);
      console.log(
        `presence (seed ${seed}): ${peers.filter((p) => p.joined).length} members in one view`,
      );
    }),
  { timeout: 90_000, requires: ["redis-server"] },
);

test(
  `presence: the members of a SIGKILLed instance leave every other client's view within lease + lease/3 (${BOUND} ms)`,
  () =>
    withCluster([other, runtime, other], async (_redis, nodes, peers) => {
      for (let i = 0; i < 12; i++) peers.push(connect(nodes[i % 3]!.url, i % 3));
      await joinAll(peers);
      await converged(peers, nodes);
      await nodes[0]!.child.stop("SIGKILL");
      const killed = performance.now();
      for (const p of peers) if (p.node === 0) p.joined = false;
      const survivors = peers.filter((p) => p.node !== 0);
      const want = truth(peers);
      // The bound, and a second for a heartbeat's round trip on a busy machine.
      await waitFor(
        () => survivors.every((p) => view(p) === want),
        `the killed instance's members to leave within ${BOUND} ms`,
        BOUND + 1000,
      );
      const took = Math.round(performance.now() - killed);
      console.log(`presence: a killed instance's 4 members left every view ${took} ms after`);
      await converged(peers, nodes.slice(1));
      const leaves = survivors[0]!.events.filter((e) => e.startsWith("leave"));
      assertEquals(leaves.length, 4, "one leave per member of the killed instance");
    }),
  { timeout: 90_000, requires: ["redis-server"] },
);

test(
  "presence: a client cut and resumed on another instance within the window makes no leave or join",
  () =>
    withCluster([runtime, other], async (_redis, nodes, peers) => {
      let target = 0;
      const mover = connect(() => nodes[target]!.url, 0);
      peers.push(mover);
      for (let i = 1; i < 5; i++) peers.push(connect(nodes[i % 2]!.url, i % 2));
      await joinAll(peers);
      await converged(peers, nodes);
      const before = peers.map((p) => p.events.length);
      let resumed = 0;
      mover.client.addEventListener("open", (e) => e.resumed && resumed++);
      target = 1;
      mover.client.socket.reconnect("moved");
      await waitFor(() => resumed === 1, "the mover to resume on the other instance");
      // A change made after the move reaches everyone: anything the move caused is before it.
      peers[1]!.data = { i: 1, after: true };
      await peers[1]!.client.setPresence(ROOM, peers[1]!.data);
      await converged(peers, nodes);
      for (const [n, p] of peers.entries()) {
        const since = p.events.slice(before[n]);
        assertEquals(since, [`update ${peers[1]!.client.id} {"i":1,"after":true}`]);
      }
      const stats = await Promise.all(nodes.map(async (node) => {
        const response = await fetch(node.url.replace(/^ws/, "http"));
        return (await response.json()).stats.presence as number;
      }));
      assertEquals(stats, [2, 3], "the mover's membership moved with it");
    }),
  { timeout: 90_000, requires: ["redis-server"] },
);

test(
  "presence: Redis killed and restarted empty while members leave and change: every view converges to the true membership",
  () =>
    withCluster([runtime, other], async (redis, nodes, peers) => {
      for (let i = 0; i < 6; i++) peers.push(connect(nodes[i % 2]!.url, i % 2));
      await joinAll(peers);
      await converged(peers, nodes);
      await redis.kill();
      peers[0]!.joined = false;
      const left = peers[0]!.client.leave(ROOM, { timeout: 20_000 });
      peers[3]!.data = { i: 3, during: "outage" };
      const changed = peers[3]!.client.setPresence(ROOM, peers[3]!.data, { timeout: 20_000 });
      await redis.restart();
      await Promise.all([left, changed]);
      await converged(peers, nodes);
      // Those who stayed never left anyone's view, outage or not.
      const stayed = peers.filter((p) => p.joined).map((p) => p.client.id);
      for (const p of peers.filter((p) => p.joined)) {
        const flaps = p.events.filter((e) => stayed.some((id) => e.startsWith(`leave ${id}`)));
        assertEquals(flaps, [], `${p.client.id}@${p.node} saw: ${p.events.join(" | ")}`);
      }
    }),
  { timeout: 90_000, requires: ["redis-server"] },
);
