/**
 * Watches for unhandled promise rejections while a test runs, on either runtime, so that a
 * test can assert that no client input ended in one (each runtime would otherwise report it
 * between tests, or end the process).
 */

interface BunProcess {
  on(event: "unhandledRejection", fn: (reason: unknown) => void): void;
  off(event: "unhandledRejection", fn: (reason: unknown) => void): void;
}

/** Starts watching; `stop()` stops and returns what was seen. */
export function watchUnhandled(): { seen: unknown[]; stop(): unknown[] } {
  const seen: unknown[] = [];
  if ("Deno" in globalThis) {
    const listener = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      seen.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", listener);
    return {
      seen,
      stop: () => (globalThis.removeEventListener("unhandledrejection", listener), seen),
    };
  }
  const proc = (globalThis as unknown as { process: BunProcess }).process;
  const listener = (reason: unknown) => void seen.push(reason);
  proc.on("unhandledRejection", listener);
  return { seen, stop: () => (proc.off("unhandledRejection", listener), seen) };
}
