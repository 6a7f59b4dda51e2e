/**
 * What the runtimes say when a connection attempt fails, read into a {@linkcode ConnectError}.
 * Only the runtime's text tells the failures apart: Deno 2.9 and Bun 1.4 put the HTTP status
 * of a refused upgrade and Bun its subprotocol refusal in the `error` event's message; browsers
 * say nothing (a plain `error` event, then 1006), so there every failure stays retryable.
 * Internal.
 *
 * @module
 */

import { ConnectError } from "./errors.ts";

/** The runtimes' lead-in before the reason, dropped so that the reason reads on its own. */
const LEAD_INS = [
  /^NetworkError: failed to connect to WebSocket: /, // Deno
  /^WebSocket connection to '[^']*' failed: /, // Bun
];

/**
 * A refused upgrade's status: "Invalid status code: 403" (Deno), "Expected 101 status code:
 * 403" (Bun).
 */
const STATUS = /(?:Invalid status code|Expected 101 status code):? (\d{3})\b/;

/**
 * Whether an HTTP answer to the upgrade may turn into a 101 later: not a 4xx (the request
 * itself is refused) except 408 (timeout) and 429 (too many requests), the same rule as for
 * the close codes 4400-4499 and their 4408 and 4429.
 */
function statusMayPass(status: number): boolean {
  return status < 400 || status > 499 || status === 408 || status === 429;
}

/**
 * Reads what the runtime reported on a socket that failed before it opened.
 *
 * @param text The `error` event's message ("" where the runtime gives none).
 * @param offered The subprotocols the attempt offered.
 * @param cause The `error` event's error, if any.
 */
export function socketFailure(
  text: string,
  offered: readonly string[],
  cause: unknown,
): ConnectError {
  const status = STATUS.exec(text)?.[1];
  if (status !== undefined) {
    const code = Number(status);
    return new ConnectError(`Cannot connect: the server answered the upgrade with HTTP ${code}`, {
      kind: "status",
      status: code,
      retryable: statusMayPass(code),
      cause: cause ?? text,
    });
  }
  const list = offered.map((p) => `"${p}"`).join(", ");
  if (/Missing client protocol/i.test(text)) {
    return new ConnectError(
      `Cannot connect: the server chose none of the offered subprotocols (${list}), ` +
        "which this runtime's WebSocket refuses",
      { kind: "subprotocol", retryable: false, cause: cause ?? text },
    );
  }
  if (/Mismatch client protocol/i.test(text)) {
    return new ConnectError(
      `Cannot connect: the server chose a subprotocol that was not offered (${list})`,
      { kind: "subprotocol", retryable: false, cause: cause ?? text },
    );
  }
  const detail = LEAD_INS.reduce((t, lead) => t.replace(lead, ""), text);
  return new ConnectError(
    `Cannot connect: ${detail || "the connection failed before it opened (no reason given)"}`,
    { kind: "network", retryable: true, cause: cause ?? (text || undefined) },
  );
}

/** A URL or subprotocol list that no attempt can use: a URL provider's answer, say. */
export function unusable(error: unknown): ConnectError {
  return new ConnectError(`Cannot connect: ${detail(error)}`, {
    kind: "url",
    retryable: false,
    cause: error,
  });
}

/** A provider that threw or rejected: its own error, which may pass next time. */
export function providerFailure(error: unknown): ConnectError {
  return new ConnectError(`Cannot connect: ${detail(error)}`, {
    kind: "provider",
    retryable: true,
    cause: error,
  });
}

/** No answer within the connect timeout. */
export function timedOut(timeout: number): ConnectError {
  return new ConnectError(`Cannot connect: no answer within ${timeout} ms`, {
    kind: "timeout",
    retryable: true,
  });
}

/** The reason a failed attempt's close event carries: "connect failed: <reason>". */
export function closeReason(error: ConnectError): string {
  return `connect failed: ${detail(error)}`;
}

/** An error's message without a leading "Cannot connect: ". */
function detail(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^Cannot connect: /, "");
}
