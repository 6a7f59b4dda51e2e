/**
 * Captures what the code under test writes with `console.error` and `console.warn` while a
 * test body runs. wskit reports failures there (a hook that threw and no `error` hook, a
 * failed `fetch` handler, a risky subprotocol choice); a test that provokes one on purpose
 * asserts on it instead of printing it among the results, where a stack trace reads like a
 * failure. Tests run one at a time in a process on both runtimes, so swapping the console's
 * methods for the duration is safe.
 */

/** What was written while {@linkcode captureConsole} ran: the arguments of each call. */
export interface CapturedConsole {
  readonly error: unknown[][];
  readonly warn: unknown[][];
  /** Every call as one line of text (errors by their message), for matching. */
  lines(): string[];
}

function asText(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
}

/**
 * Runs `body` with `console.error` and `console.warn` captured, restored afterwards whatever
 * happens. Output that is not captured (from another test, or after the body) still prints.
 *
 * @param body The test body; it receives the capture to assert on.
 * @returns What `body` resolves with.
 */
export async function captureConsole<T>(
  body: (captured: CapturedConsole) => Promise<T>,
): Promise<T> {
  const captured: CapturedConsole = {
    error: [],
    warn: [],
    lines: () => [...captured.error, ...captured.warn].map((args) => args.map(asText).join(" ")),
  };
  const { error, warn } = console;
  console.error = (...args: unknown[]) => void captured.error.push(args);
  console.warn = (...args: unknown[]) => void captured.warn.push(args);
  try {
    return await body(captured);
  } finally {
    console.error = error;
    console.warn = warn;
  }
}
