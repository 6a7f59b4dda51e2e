/**
 * A same-signature stand-in for the parts of `jsr:@std/assert@^1` that the tests use.
 *
 * JSR cannot be reached from the machines this project is built on, so the import map in
 * `deno.json` (and `paths` in `tsconfig.json` for Bun) points the bare specifier `@std/assert`
 * here. Where JSR is reachable, swapping that one entry for `jsr:@std/assert@^1` is all it
 * takes: the functions below keep the published names, signatures and semantics, including
 * structural deep equality for `assertEquals`.
 *
 * @module
 */

/** Error thrown when an assertion fails. */
export class AssertionError extends Error {
  /** Constructs a new instance. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AssertionError";
  }
}

function format(v: unknown): string {
  const inspect = (globalThis as { Deno?: { inspect(v: unknown, o: unknown): string } }).Deno
    ?.inspect;
  if (inspect) return inspect(v, { depth: Infinity, sorted: true, trailingComma: true });
  const bun = (globalThis as { Bun?: { inspect(v: unknown): string } }).Bun;
  if (bun) return bun.inspect(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function suffix(msg?: string): string {
  return msg ? `: ${msg}` : ".";
}

function isKeyedCollection(x: unknown): x is Map<unknown, unknown> | Set<unknown> {
  return x instanceof Map || x instanceof Set;
}

function constructorsEqual(a: object, b: object): boolean {
  return a.constructor === b.constructor ||
    (a.constructor === Object && !b.constructor) ||
    (!a.constructor && b.constructor === Object);
}

function bytesOf(x: ArrayBuffer | SharedArrayBuffer | DataView): Uint8Array {
  return x instanceof DataView
    ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength)
    : new Uint8Array(x);
}

/**
 * Deep equality comparison used by {@linkcode assertEquals}: primitives by value (NaN equals
 * NaN), dates by time, regular expressions and URLs by their string form, maps and sets
 * without regard to order, and objects by their own enumerable keys and constructors.
 *
 * @param c The actual value.
 * @param d The expected value.
 * @returns `true` when the values are deeply equal.
 */
export function equal(c: unknown, d: unknown): boolean {
  const seen = new Map<unknown, unknown>();
  return (function compare(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (typeof a === "number" && typeof b === "number") {
      return Number.isNaN(a) && Number.isNaN(b);
    }
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
      return false;
    }
    if (a instanceof RegExp && b instanceof RegExp) return String(a) === String(b);
    if (a instanceof URL && b instanceof URL) return a.href === b.href;
    if (a instanceof Date && b instanceof Date) {
      const at = a.getTime();
      const bt = b.getTime();
      return (Number.isNaN(at) && Number.isNaN(bt)) || at === bt;
    }
    if (!constructorsEqual(a, b)) return false;
    if (a instanceof WeakMap || a instanceof WeakSet) {
      throw new TypeError("Cannot compare WeakMap or WeakSet instances");
    }
    if (
      (a instanceof ArrayBuffer || a instanceof DataView) &&
      (b instanceof ArrayBuffer || b instanceof DataView)
    ) {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    }
    if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && !(a instanceof DataView)) {
      // Typed arrays compare element by element (what their index keys amount to), without
      // materializing a million string keys.
      const x = a as unknown as ArrayLike<unknown>;
      const y = b as unknown as ArrayLike<unknown>;
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
      return true;
    }
    if (seen.get(a) === b) return true;
    const ao = a as Record<PropertyKey, unknown>;
    const bo = b as Record<PropertyKey, unknown>;
    if (Object.keys(ao).length !== Object.keys(bo).length) return false;
    seen.set(a, b);
    if (isKeyedCollection(a) && isKeyedCollection(b)) {
      if (a.size !== b.size) return false;
      const aKeys = [...a.keys()];
      const unmatched = new Set(b.keys());
      for (const aKey of aKeys) {
        let found = false;
        for (const bKey of unmatched) {
          const valuesMatch = a instanceof Map && b instanceof Map
            ? compare(a.get(aKey), b.get(bKey))
            : true;
          if (compare(aKey, bKey) && valuesMatch) {
            unmatched.delete(bKey);
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
      return unmatched.size === 0;
    }
    const keys = new Set<PropertyKey>([
      ...Object.keys(ao),
      ...Object.keys(bo),
      ...Object.getOwnPropertySymbols(ao).filter((s) =>
        Object.prototype.propertyIsEnumerable.call(ao, s)
      ),
      ...Object.getOwnPropertySymbols(bo).filter((s) =>
        Object.prototype.propertyIsEnumerable.call(bo, s)
      ),
    ]);
    for (const key of keys) {
      if (!(key in ao) || !(key in bo)) return false;
      if (!compare(ao[key], bo[key])) return false;
    }
    return true;
  })(c, d);
}

/**
 * Make an assertion, error will be thrown if `expr` does not have a truthy value.
 *
 * @param expr The expression to test.
 * @param msg The optional message to display if the assertion fails.
 */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/** A falsy value. */
export type Falsy = false | 0 | 0n | "" | null | undefined;

/**
 * Make an assertion, error will be thrown if `expr` has a truthy value.
 *
 * @param expr The expression to test.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertFalse(expr: unknown, msg = ""): asserts expr is Falsy {
  if (expr) throw new AssertionError(msg);
}

/**
 * Make an assertion that `actual` and `expected` are deeply equal.
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (equal(actual, expected)) return;
  throw new AssertionError(
    `Values are not equal${suffix(msg)}\n\n    actual: ${format(actual)}\n  expected: ${
      format(expected)
    }`,
  );
}

/**
 * Make an assertion that `actual` and `expected` are not deeply equal.
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) return;
  throw new AssertionError(
    `Expected actual: ${format(actual)} not to be: ${format(expected)}${msg ? `: ${msg}` : ""}`,
  );
}

/**
 * Make an assertion that `actual` and `expected` are strictly equal (`Object.is`).
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (Object.is(actual, expected)) return;
  throw new AssertionError(
    `Values are not strictly equal${suffix(msg)}\n\n    actual: ${format(actual)}\n  expected: ${
      format(expected)
    }`,
  );
}

/**
 * Make an assertion that `actual` and `expected` are not strictly equal.
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertNotStrictEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!Object.is(actual, expected)) return;
  throw new AssertionError(
    `Expected "actual" to not be strictly equal to: ${format(expected)}${msg ? `: ${msg}` : ""}`,
  );
}

/**
 * Make an assertion that `actual` is not null or undefined.
 *
 * @param actual The actual value to check.
 * @param msg The optional message to include in the error if the assertion fails.
 */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === undefined || actual === null) {
    throw new AssertionError(
      msg ? msg : `Expected actual: "${actual}" to not be null or undefined.`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type AnyConstructor = new (...args: any[]) => any;
type GetConstructorType<T extends AnyConstructor> = InstanceType<T>;

/**
 * Make an assertion that `obj` is an instance of `type`.
 *
 * @param actual The object to check.
 * @param expectedType The expected class constructor.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertInstanceOf<T extends AnyConstructor>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is GetConstructorType<T> {
  if (actual instanceof expectedType) return;
  throw new AssertionError(
    msg || `Expected object to be an instance of "${expectedType.name}" but was ${format(actual)}.`,
  );
}

/**
 * Make an assertion that `actual` match RegExp `expected`.
 *
 * @param actual The actual value to be matched.
 * @param expected The expected pattern to match.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (expected.test(actual)) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to match: "${expected}"${msg ? `: ${msg}` : "."}`,
  );
}

/**
 * Make an assertion that actual includes expected.
 *
 * @param actual The actual string to check for inclusion.
 * @param expected The expected string to check for inclusion.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (actual.includes(expected)) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to contain: "${expected}"${msg ? `: ${msg}` : "."}`,
  );
}

/** An array-like object (`Array`, `Uint8Array`, `NodeList`, etc.) that is not a string. */
export type ArrayLikeArg<T> = ArrayLike<T> & object;

/**
 * Make an assertion that `actual` includes the `expected` values (deep equality).
 *
 * @param actual The array-like object to check for.
 * @param expected The array-like object to check for.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertArrayIncludes<T>(
  actual: ArrayLikeArg<T>,
  expected: ArrayLikeArg<T>,
  msg?: string,
): void {
  const missing: unknown[] = [];
  for (let i = 0; i < expected.length; i++) {
    let found = false;
    for (let j = 0; j < actual.length; j++) {
      if (equal(expected[i], actual[j])) {
        found = true;
        break;
      }
    }
    if (!found) missing.push(expected[i]);
  }
  if (missing.length === 0) return;
  throw new AssertionError(
    `Expected actual: "${format(actual)}" to include: "${format(expected)}"${
      msg ? `: ${msg}` : "."
    }\nmissing: ${format(missing)}`,
  );
}

/**
 * Make an assertion that `actual` is greater than `expected`.
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (actual > expected) return;
  throw new AssertionError(msg ?? `Expect ${format(actual)} > ${format(expected)}`);
}

/**
 * Make an assertion that `actual` is greater than or equal to `expected`.
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (actual >= expected) return;
  throw new AssertionError(msg ?? `Expect ${format(actual)} >= ${format(expected)}`);
}

/**
 * Make an assertion that `actual` is less than `expected`.
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (actual < expected) return;
  throw new AssertionError(msg ?? `Expect ${format(actual)} < ${format(expected)}`);
}

/**
 * Make an assertion that `actual` is less than or equal to `expected`.
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (actual <= expected) return;
  throw new AssertionError(msg ?? `Expect ${format(actual)} <= ${format(expected)}`);
}

/**
 * Make an assertion that `actual` and `expected` are almost equal numbers through a given
 * tolerance (by default a relative tolerance of one ten-millionth of `expected`).
 *
 * @param actual The actual value to compare.
 * @param expected The expected value to compare.
 * @param tolerance The tolerance to consider the values almost equal.
 * @param msg The optional message to include in the error.
 */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance?: number,
  msg?: string,
): void {
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(expected - actual);
  const tol = tolerance ?? Math.abs(expected * 1e-7);
  if (delta <= tol) return;
  throw new AssertionError(
    `Expected actual: "${actual}" to be close to "${expected}": delta "${delta}" is greater than "${tol}"${
      msg ? `: ${msg}` : ""
    }`,
  );
}

// deno-lint-ignore no-explicit-any
type Loose = Record<PropertyKey, any>;

/**
 * Make an assertion that `expected` object is a subset of `actual` object, deeply.
 *
 * @param actual The actual value to be matched.
 * @param expected The expected value to match.
 * @param msg The optional message to display if the assertion fails.
 */
export function assertObjectMatch(
  actual: Loose,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  function filter(a: unknown, b: unknown): unknown {
    if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => filter(x, b[i]));
    if (a && b && typeof a === "object" && typeof b === "object" && !(a instanceof Date)) {
      const out: Loose = {};
      for (const key of Reflect.ownKeys(b)) {
        if (key in (a as Loose)) out[key] = filter((a as Loose)[key], (b as Loose)[key]);
      }
      return out;
    }
    return a;
  }
  assertEquals(filter(actual, expected), expected, msg);
}

/**
 * Forcefully throws a failed assertion.
 *
 * @param msg Optional message to include in the error.
 * @returns Never returns, always throws.
 */
export function fail(msg?: string): never {
  throw new AssertionError(`Failed assertion${msg ? `: ${msg}` : "."}`);
}

/**
 * Use this to assert unreachable code.
 *
 * @param msg Optional message to include in the error.
 * @returns Never returns, always throws.
 */
export function unreachable(msg?: string): never {
  throw new AssertionError(msg ?? "Unreachable");
}

function checkError(
  e: unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: abstract new (...args: any[]) => Error,
  msgIncludes?: string,
  msg?: string,
): void {
  const extra = msg ? `: ${msg}` : ".";
  if (ErrorClass && !(e instanceof ErrorClass)) {
    throw new AssertionError(
      `Expected error to be instance of "${ErrorClass.name}", but was "${
        (e as Error)?.constructor?.name
      }"${extra}`,
    );
  }
  if (msgIncludes !== undefined) {
    const message = e instanceof Error ? e.message : String(e);
    if (!message.includes(msgIncludes)) {
      throw new AssertionError(
        `Expected error message to include ${format(msgIncludes)}, but got ${
          format(message)
        }${extra}`,
      );
    }
  }
}

/**
 * Executes a function, expecting it to throw. If it does not, then it throws.
 *
 * @param fn The function to execute.
 * @param msg The optional message to display if the assertion fails.
 * @returns The error that was thrown.
 */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/**
 * Executes a function, expecting it to throw an error of the given class, optionally with a
 * message that includes `msgIncludes`.
 *
 * @param fn The function to execute.
 * @param ErrorClass The error class to assert.
 * @param msgIncludes The string that should be included in the error message.
 * @param msg The optional message to display if the assertion fails.
 * @returns The error that was thrown.
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  errorClassOrMsg?: (abstract new (...args: any[]) => E) | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): E | Error | unknown {
  const ErrorClass = typeof errorClassOrMsg === "function" ? errorClassOrMsg : undefined;
  const msgIncludes = ErrorClass ? msgIncludesOrMsg : undefined;
  const message = ErrorClass ? msg : (errorClassOrMsg as string | undefined) ?? msgIncludesOrMsg;
  try {
    fn();
  } catch (e) {
    if (ErrorClass && !(e instanceof Error)) {
      throw new AssertionError(`A non-Error object was thrown${message ? `: ${message}` : "."}`);
    }
    checkError(e, ErrorClass, msgIncludes, message);
    return e;
  }
  throw new AssertionError(`Expected function to throw${message ? `: ${message}` : "."}`);
}

/**
 * Executes a function which returns a promise, expecting it to reject.
 *
 * @param fn The function to execute.
 * @param msg The optional message to display if the assertion fails.
 * @returns The promise which resolves to the thrown error.
 */
export function assertRejects(fn: () => PromiseLike<unknown>, msg?: string): Promise<unknown>;
/**
 * Executes a function which returns a promise, expecting it to reject with an error of the
 * given class, optionally with a message that includes `msgIncludes`.
 *
 * @param fn The function to execute.
 * @param ErrorClass The error class to assert.
 * @param msgIncludes The string that should be included in the error message.
 * @param msg The optional message to display if the assertion fails.
 * @returns The promise which resolves to the thrown error.
 */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  // deno-lint-ignore no-explicit-any
  errorClassOrMsg?: (abstract new (...args: any[]) => E) | string,
  msgIncludesOrMsg?: string,
  msg?: string,
): Promise<E | Error | unknown> {
  const ErrorClass = typeof errorClassOrMsg === "function" ? errorClassOrMsg : undefined;
  const msgIncludes = ErrorClass ? msgIncludesOrMsg : undefined;
  const message = ErrorClass ? msg : (errorClassOrMsg as string | undefined) ?? msgIncludesOrMsg;
  let promise: PromiseLike<unknown>;
  try {
    promise = fn();
  } catch (e) {
    throw new AssertionError(
      `Function throws when expected to reject: ${String(e)}${message ? `: ${message}` : "."}`,
    );
  }
  if (!promise || typeof promise.then !== "function") {
    throw new AssertionError(
      `Function returns a non-promise value when expected to reject${
        message ? `: ${message}` : "."
      }`,
    );
  }
  try {
    await promise;
  } catch (e) {
    if (ErrorClass && !(e instanceof Error)) {
      throw new AssertionError(`A non-Error object was rejected${message ? `: ${message}` : "."}`);
    }
    checkError(e, ErrorClass, msgIncludes, message);
    return e;
  }
  throw new AssertionError(`Expected function to reject${message ? `: ${message}` : "."}`);
}
