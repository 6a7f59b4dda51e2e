/**
 * The examples' command lines, declared once: each example lists its flags with a type, a
 * default and one line of help; {@linkcode parse} reads the arguments against that
 * declaration and {@linkcode usage} writes the help from it. No runtime API here: `_cli.ts`
 * feeds it the arguments and prints what it says.
 *
 * @module
 */

/** Why a value is wrong ("must be a redis: URL"), or `undefined` when it is fine. */
export type Check = (value: string) => string | undefined;

/** A switch, off unless given: `--hello`. */
export interface BooleanFlag {
  type: "boolean";
  help: string;
}

/** A whole number within bounds: `--port N`. */
export interface IntegerFlag {
  type: "integer";
  /** The name of its value in the help: `N`, `BYTES`. */
  value: string;
  help: string;
  min: number;
  /** @default {Number.MAX_SAFE_INTEGER} */
  max?: number;
  /** Without one, the value is `undefined` when the flag is not given. */
  default?: number;
}

/** A text value: `--redis URL`. */
export interface StringFlag {
  type: "string";
  value: string;
  help: string;
  /** Without one, the value is `undefined` when the flag is not given. */
  default?: string;
  check?: Check;
}

/** A text value that may be given again and again, every one kept: `--origin ORIGIN`. */
export interface ListFlag {
  type: "list";
  value: string;
  help: string;
  check?: Check;
}

/** The one argument that is not a flag, optional: `client.ts [URL]`. */
export interface OperandFlag {
  type: "operand";
  value: string;
  help: string;
  default: string;
  check?: Check;
}

/** One entry of a command line's declaration. */
export type Flag = BooleanFlag | IntegerFlag | StringFlag | ListFlag | OperandFlag;

/** Flags by their key: `maxPayload` is given as `--max-payload`. */
export type Flags = Record<string, Flag>;

/** An example's command line. */
export interface Command<S extends Flags = Flags> {
  /** The example's name, which starts every line it prints about its command line. */
  name: string;
  /** What it is, in one line. */
  about: string;
  /** The `deno run` permission flags it needs, which its shebang line names too. */
  deno: string[];
  flags: S;
}

type Value<F> = F extends BooleanFlag ? boolean
  : F extends ListFlag ? string[]
  : F extends OperandFlag ? string
  : F extends { type: "integer"; default: number } ? number
  : F extends IntegerFlag ? number | undefined
  : F extends { type: "string"; default: string } ? string
  : string | undefined;

/** The values of a command line, by the keys of its declaration. */
export type Values<S extends Flags> = { -readonly [K in keyof S]: Value<S[K]> };

/** A command line that does not fit its declaration; the message is the reason. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** `maxPayload` as it is typed: `max-payload`. */
function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `text` as it can be shown on one line: quoted when it has spaces or control characters. */
function show(text: string): string {
  return /^[\x21-\x7e]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * Reads `argv` against `flags`: `--name VALUE`, `--name=VALUE`, `--switch`, and the operand
 * if one is declared; a flag given twice keeps its last value, a list flag every value.
 *
 * @returns The values, or `"help"` when `-h` or `--help` is anywhere among the arguments.
 * @throws {UsageError} For an unknown flag, a missing or bad value, an unexpected argument.
 */
export function parse<S extends Flags>(flags: S, argv: readonly string[]): Values<S> | "help" {
  if (argv.some((a) => a === "-h" || a === "--help")) return "help";
  const values: Record<string, unknown> = {};
  const named = new Map<string, [string, Exclude<Flag, OperandFlag>]>();
  let operand: [string, OperandFlag] | undefined;
  for (const [key, flag] of Object.entries(flags)) {
    if (flag.type === "operand") operand = [key, flag];
    else named.set(`--${flagName(key)}`, [key, flag]);
    values[key] = flag.type === "boolean" ? false : flag.type === "list" ? [] : flag.default;
  }
  let operands = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      if (!operand || operands++ > 0) throw new UsageError(`unexpected argument ${show(arg)}`);
      values[operand[0]] = read(operand[1], `the ${operand[1].value}`, arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const entry = named.get(name);
    if (!entry) throw new UsageError(`unknown flag ${show(name)}${suggestion(name, named)}`);
    const [key, flag] = entry;
    if (flag.type === "boolean") {
      if (eq >= 0) throw new UsageError(`${name} takes no value`);
      values[key] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) {
      throw new UsageError(`${name} needs a value (${flag.value})`);
    }
    const read_ = read(flag, name, value);
    if (flag.type === "list") (values[key] as unknown[]).push(read_);
    else values[key] = read_;
  }
  return values as Values<S>;
}

/**
 * Checks one value.
 *
 * @throws {UsageError} When it is wrong.
 */
function read(flag: Exclude<Flag, BooleanFlag>, name: string, value: string): string | number {
  if (flag.type === "integer") {
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    const max = flag.max ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(n) || n < flag.min || n > max) {
      const range = flag.max === undefined
        ? `of ${flag.min} or more`
        : `from ${flag.min} to ${max}`;
      throw new UsageError(`${name} must be a whole number ${range}, got ${show(value)}`);
    }
    return n;
  }
  const wrong = flag.check?.(value);
  if (wrong !== undefined) throw new UsageError(`${name} ${wrong}, got ${show(value)}`);
  return value;
}

/** ", did you mean --port?" for `--prot`: the one declared flag within two edits, if any. */
function suggestion(name: string, named: Map<string, unknown>): string {
  const near = [...named.keys()].filter((known) => distance(name, known) <= 2);
  return near.length === 1 ? `; did you mean ${near[0]}?` : "";
}

/** The edit distance of two short strings (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      next.push(Math.min(swap, row[j]! + 1, next[j - 1]! + 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/** How the examples end, the same for each. */
const EXIT_STATUS =
  `Exit status: 0 after Ctrl-C or SIGTERM, 1 when it cannot start for another reason (a port in use),
2 when the command line must change (a flag, a value, a Deno permission).`;

/**
 * The help of `cmd`: what it is, how to run it on each runtime (`run`, the command lines up
 * to the script), its flags with their defaults, its exit status.
 */
export function usage(cmd: Command, run: { deno: string; bun: string }): string {
  const entries = Object.entries(cmd.flags);
  const operand = entries.map(([, f]) => f).find((f) => f.type === "operand");
  const tail = `[flags]${operand ? ` [${operand.value}]` : ""}`;
  const rows: [string, string][] = entries.map(([key, f]) => {
    const left = f.type === "operand"
      ? f.value
      : `--${flagName(key)}${f.type === "boolean" ? "" : ` ${f.value}`}`;
    const fallback = "default" in f && f.default !== undefined ? ` (default: ${f.default})` : "";
    const again = f.type === "list" ? " (repeatable)" : "";
    return [left, `${f.help}${again}${fallback}`];
  });
  rows.push(["-h, --help", "print this help and exit"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `${cmd.name}: ${cmd.about}`,
    "",
    `Usage: ${run.deno} ${tail}`,
    `       ${run.bun} ${tail}`,
    "",
    "Flags:",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    "",
    EXIT_STATUS,
  ].join("\n");
}
