// The in-memory store keeps its entries in arrays (no object per entry) and the store-wide
// order of appends as places that go stale: the oldest entry of the whole store still goes
// first past maxTotalBytes, whatever its stream, after a log's own window took some and a
// stream was dropped; and a long run of evictions keeps every count exact.

import { assertEquals, assertLessOrEqual } from "@std/assert";
import { ENTRY_COST, MemoryStore } from "../src/session/memory_store.ts";
import { test } from "./_support/harness.ts";

/** Every entry here is two characters: "a1", "b1", ... (offsets below 10). */
const COST = ENTRY_COST + 2;

test("MemoryStore: past maxTotalBytes the oldest entry of any stream goes, stale places passed over", () => {
  const store = new MemoryStore({ maxCount: 2, maxTotalBytes: 4 * COST });
  const [epoch] = store.position("a");
  store.append("a", "a", ""); // a1
  store.append("b", "b", ""); // b1
  store.append("a", "a", ""); // a2
  store.append("a", "a", ""); // a3: a's own window (2) takes a1
  store.append("c", "c", ""); // c1: four kept
  assertEquals(store.bytes, 4 * COST);
  store.drop("b"); // b1 gone with its stream
  assertEquals(store.bytes, 3 * COST);
  store.append("c", "c", ""); // c2: four again, nothing to evict
  assertEquals(store.since("a", [epoch, 1]), ["a2", "a3"]);
  store.append("d", "d", ""); // d1: five; the oldest kept, a2, goes (not a1 or b1, gone already)
  assertEquals(store.bytes, 4 * COST);
  assertEquals(store.since("a", [epoch, 1]), null, "a2 is gone: a gap, not a replay");
  assertEquals(store.since("a", [epoch, 2]), ["a3"]);
  store.append("d", "d", ""); // d2: a3 goes next
  assertEquals(store.since("a", [epoch, 2]), null);
  assertEquals(store.since("c", [epoch, 0]), ["c1", "c2"]);
  assertEquals(store.since("d", [epoch, 0]), ["d1", "d2"]);
  store.append("b", "b", ""); // a new stream b counts from 1 again; c1 goes
  assertEquals(store.since("b", [epoch, 0]), ["b1"]);
  assertEquals(store.since("c", [epoch, 0]), null);
  assertEquals(store.since("c", [epoch, 1]), ["c2"]);
});

test("MemoryStore: many streams, windows and drops keep the byte count exact and within bounds", () => {
  const maxTotalBytes = 300 * (ENTRY_COST + 8);
  const store = new MemoryStore({ maxCount: 50, maxTotalBytes });
  const [epoch] = store.position("s0");
  const last = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const stream = `s${(i * 7) % 13}`;
    const offset = store.append(stream, "x", "-pad");
    last.set(stream, offset);
    assertLessOrEqual(store.bytes, maxTotalBytes);
    if (i % 997 === 0) {
      store.drop(stream);
      last.delete(stream);
    }
  }
  let bytes = 0;
  // What since() can still reach of each stream is exactly what the byte count holds.
  for (const [stream, offset] of last) {
    let from = offset;
    while (from > 0 && store.since(stream, [epoch, from - 1]) !== null) from--;
    for (const text of store.since(stream, [epoch, from])!) bytes += text.length + ENTRY_COST;
  }
  assertEquals(store.bytes, bytes);
});
