/**
 * The one validation helper of the toolkit's options, with its one message style, shared by
 * every wing (server, client, session, relay). A leaf.
 *
 * @module
 */

/** What a numeric option may be besides a positive finite number. */
export interface NumberRule {
  /** `0` is allowed (it usually turns the feature off). */
  zero?: boolean;
  /** `Infinity` is allowed (no limit). */
  infinite?: boolean;
}

/**
 * Checks a numeric option, or gives its default when it is left out.
 *
 * @param name The option as the user wrote it, such as `"rateLimit.messages"`.
 * @param value What the user passed.
 * @param fallback The default.
 * @param rule What else is allowed.
 * @returns The value, or the default.
 * @throws {RangeError} "Cannot configure NAME: expected ..., got VALUE".
 */
export function checkNumber(
  name: string,
  value: unknown,
  fallback: number,
  rule: NumberRule = {},
): number {
  if (value === undefined) return fallback;
  const ok = typeof value === "number" && !Number.isNaN(value) &&
    (value > 0 || (rule.zero === true && value === 0)) &&
    (value !== Infinity || rule.infinite === true);
  if (ok) return value;
  const what = rule.zero ? "a number >= 0" : "a number > 0";
  throw new RangeError(`Cannot configure ${name}: expected ${what}, got ${String(value)}`);
}
