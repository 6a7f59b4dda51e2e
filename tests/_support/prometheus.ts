/**
 * A strict reader of Prometheus' text exposition format (0.0.4), so that tests can hold
 * wskit's metrics to what a Prometheus server accepts, and to the conventions it expects:
 * every family has one HELP and then one TYPE before its samples, its lines are together,
 * no series twice, counters are named `_total` and never negative. Any deviation throws
 * with the line it is on.
 */

/** One series and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

/** A metric family: its HELP, TYPE and samples. */
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** A family name's suffixes that its samples may add, by type. */
const SUFFIXES: Record<string, string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

class ParseError extends Error {
  constructor(line: number, message: string) {
    super(`Cannot parse the exposition: line ${line}: ${message}`);
  }
}

/** Reads `input` from `at`: a label value up to its closing quote, escapes undone. */
function labelValue(input: string, at: number, line: number): [string, number] {
  let value = "";
  for (let i = at; i < input.length; i++) {
    const c = input[i];
    if (c === '"') return [value, i + 1];
    if (c !== "\\") {
      value += c;
      continue;
    }
    const next = input[++i];
    if (next === "\\") value += "\\";
    else if (next === '"') value += '"';
    else if (next === "n") value += "\n";
    else throw new ParseError(line, `bad escape \\${next ?? ""} in a label value`);
  }
  throw new ParseError(line, "a label value has no closing quote");
}

/** `+Inf`, `-Inf`, `NaN` or a decimal float; anything else throws. */
function parseValue(text: string, line: number): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!FLOAT.test(text)) throw new ParseError(line, `"${text}" is not a value`);
  return Number(text);
}

/** Parses one sample line. */
function parseSample(text: string, line: number): Sample {
  const name = METRIC_NAME.exec(text)?.[0];
  if (!name) throw new ParseError(line, "expected a metric name");
  let i = name.length;
  const labels: Record<string, string> = {};
  if (text[i] === "{") {
    i++;
    while (text[i] !== "}") {
      const label = LABEL_NAME.exec(text.slice(i))?.[0];
      if (!label) throw new ParseError(line, "expected a label name");
      if (label.startsWith("__")) throw new ParseError(line, `label ${label} is reserved`);
      if (Object.hasOwn(labels, label)) throw new ParseError(line, `label ${label} twice`);
      i += label.length;
      if (text[i] !== "=" || text[i + 1] !== '"') {
        throw new ParseError(line, `expected ="..." after ${label}`);
      }
      [labels[label], i] = labelValue(text, i + 2, line);
      if (text[i] === ",") i++;
      else if (text[i] !== "}") throw new ParseError(line, "expected , or } after a label");
    }
    i++;
  }
  const rest = text.slice(i);
  if (!/^[ \t]/.test(rest)) throw new ParseError(line, "expected a blank before the value");
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length > 2) throw new ParseError(line, "trailing text after the timestamp");
  const sample: Sample = { name, labels, value: parseValue(fields[0]!, line) };
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) throw new ParseError(line, "the timestamp is no integer");
    sample.timestamp = Number(fields[1]);
  }
  return sample;
}

/** The family a sample belongs to, among those declared. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact && !(exact.type in SUFFIXES && !SUFFIXES[exact.type]!.includes(""))) return exact;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (family && SUFFIXES[family.type]?.includes(suffix)) return family;
  }
  return undefined;
}

/**
 * Parses an exposition strictly.
 *
 * @returns The families by name, in order.
 * @throws {Error} At the first line that Prometheus would refuse or that breaks a convention.
 */
export function parsePrometheus(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) {
    throw new ParseError(text.split("\n").length, "the last line has no line feed");
  }
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const done = new Set<string>();
  let current: Family | undefined;
  const enter = (family: Family, line: number) => {
    if (current === family) return;
    if (done.has(family.name)) {
      throw new ParseError(line, `family ${family.name} is not together in one place`);
    }
    if (current) done.add(current.name);
    current = family;
  };
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((raw, index) => {
    const n = index + 1;
    if (raw.trim() === "") return;
    const meta = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(raw);
    if (raw.startsWith("#") && !meta) return; // another comment
    if (meta) {
      const [, kind, name, rest = ""] = meta;
      if (METRIC_NAME.exec(name!)?.[0] !== name) throw new ParseError(n, `bad name ${name}`);
      let family = families.get(name!);
      if (!family) families.set(name!, family = { name: name!, type: "", help: "", samples: [] });
      enter(family, n);
      if (family.samples.length > 0) throw new ParseError(n, `${kind} after samples of ${name}`);
      if (kind === "HELP") {
        if (family.help !== "" || family.type !== "") {
          throw new ParseError(n, `HELP of ${name} twice, or after its TYPE`);
        }
        // Escapes read left to right: "\\\\x" is an escaped backslash, then "x".
        if (rest.replace(/\\[\\n]/g, "").includes("\\")) {
          throw new ParseError(n, "bad escape in HELP");
        }
        family.help = rest.replace(/\\(\\|n)/g, (_, c) => c === "n" ? "\n" : "\\");
        if (family.help === "") throw new ParseError(n, `empty HELP of ${name}`);
      } else {
        if (family.type !== "") throw new ParseError(n, `TYPE of ${name} twice`);
        if (!TYPES.has(rest)) throw new ParseError(n, `unknown type "${rest}"`);
        if (family.help === "") throw new ParseError(n, `TYPE of ${name} before its HELP`);
        if (rest === "counter" && !name!.endsWith("_total")) {
          throw new ParseError(n, `counter ${name} does not end in _total`);
        }
        family.type = rest;
      }
      return;
    }
    const sample = parseSample(raw, n);
    const family = familyOf(sample.name, families);
    if (!family || family.type === "") {
      throw new ParseError(n, `sample ${sample.name} has no HELP and TYPE before it`);
    }
    enter(family, n);
    const key = `${sample.name}{${
      Object.entries(sample.labels).sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) =>
        `${k}=${JSON.stringify(v)}`
      ).join(",")
    }}`;
    if (series.has(key)) throw new ParseError(n, `series ${key} twice`);
    series.add(key);
    if (family.type === "counter" && !(sample.value >= 0)) {
      throw new ParseError(n, `counter ${key} is ${sample.value}`);
    }
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type === "") throw new ParseError(lines.length, `${family.name} has no TYPE`);
  }
  return families;
}

/** The series of every counter, by `name{labels}`, with their values. */
export function counters(families: Map<string, Family>): Map<string, number> {
  const out = new Map<string, number>();
  for (const family of families.values()) {
    if (family.type !== "counter") continue;
    for (const s of family.samples) out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}

/**
 * The value of the series `name` with exactly `labels`.
 *
 * @throws {Error} When there is no such series.
 */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) {
        return s.value;
      }
    }
  }
  throw new Error(`Cannot find the series ${name}${JSON.stringify(labels)}`);
}
