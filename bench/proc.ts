/**
 * Process figures from Linux `/proc`: CPU time (utime + stime of every thread, from
 * `/proc/<pid>/stat`) and resident memory (`VmRSS`, `VmHWM` from `/proc/<pid>/status`).
 * Synchronous on purpose: the load client samples at window edges and must not yield there.
 *
 * @module
 */

interface DenoFs {
  readTextFileSync(path: string): string;
}
type NodeFs = { readFileSync(path: string, encoding: "utf8"): string };

const deno = (globalThis as unknown as { Deno?: DenoFs }).Deno;
// On Bun, the synchronous file API is node:fs, reached through `import.meta.require` so
// that the Deno type checker never resolves node types.
const fs = deno
  ? undefined
  : (import.meta as unknown as { require(id: string): NodeFs }).require("fs");

function readFileSync(path: string, _encoding: "utf8"): string {
  return deno ? deno.readTextFileSync(path) : fs!.readFileSync(path, "utf8");
}

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = 100;

/** CPU time used so far by process `pid` (`"self"` for this one), in milliseconds. */
export function cpuMs(pid: number | "self"): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may contain spaces and parentheses: fields start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLK_TCK;
}

/**
 * CPU time used by the whole machine so far (all CPUs, every state but idle and iowait), in
 * milliseconds: with the subject's and the client's own, it shows how much other processes
 * took during a run.
 */
export function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1)
    .map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1000 / CLK_TCK;
}

/** Resident and peak resident memory of process `pid`, in KiB. */
export function memoryKiB(pid: number | "self"): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** Whether process `pid` still exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
