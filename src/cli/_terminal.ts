/**
 * Printing what upstreams sent (private to this folder): `--json` output whose strings cannot
 * act on a terminal, written without recursion and in a size proportional to the value,
 * however deeply it nests.
 */

/**
 * Characters `JSON.stringify` leaves raw that a terminal acts on: DEL, the C1 controls, the
 * bidi controls and the Unicode line separators (C0 controls it escapes itself).
 */
const RAW_IN_JSON = /[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Nesting levels that get their own indented lines; deeper ones stay on one line. */
const MAX_INDENTED_DEPTH = 32;

interface Frame {
  close: string;
  entries: Array<[key: string | undefined, value: unknown]>;
  next: number;
}

/** The JSON text of a primitive, or `undefined` for what JSON leaves out (functions, …). */
function primitiveJson(value: unknown): string | undefined {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value).replace(RAW_IN_JSON, escape);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "boolean") return String(value);
  return undefined;
}

function escape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function entriesOf(value: object): Frame["entries"] {
  if (Array.isArray(value)) return value.map((item) => [undefined, item]);
  const record = value as Record<string, unknown>;
  return Object.keys(record).map((key) => [key, record[key]]);
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * `value` as JSON indented by two spaces, as `JSON.stringify(value, null, 2)` writes it down
 * to 32 levels (deeper levels stay compact, so a 20 000-deep schema neither overflows the
 * stack nor prints gigabytes of indentation), with the characters JSON leaves raw that could
 * act on a terminal written as `\uXXXX` escapes: the same JSON value, safe to print. For the
 * plain data a JSON-RPC message holds (no `toJSON`, no cycles).
 */
export function terminalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const newline = (depth: number) => depth <= MAX_INDENTED_DEPTH ? "\n" + "  ".repeat(depth) : "";
  const open = (container: object) => {
    const entries = entriesOf(container).filter(([key, v]) =>
      key === undefined || isContainer(v) || primitiveJson(v) !== undefined
    );
    const [openText, close] = Array.isArray(container) ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) {
      out.push(openText + close);
      return;
    }
    out.push(openText);
    stack.push({ close, entries, next: 0 });
  };
  if (isContainer(value)) open(value);
  else out.push(primitiveJson(value) ?? "null");
  while (stack.length > 0) {
    const frame = stack.at(-1)!;
    const depth = stack.length;
    if (frame.next === frame.entries.length) {
      stack.pop();
      out.push(newline(depth - 1) + frame.close);
      continue;
    }
    const [key, item] = frame.entries[frame.next++];
    out.push((frame.next > 1 ? "," : "") + newline(depth));
    if (key !== undefined) out.push(`${primitiveJson(key)}: `);
    if (isContainer(item)) open(item);
    else out.push(primitiveJson(item) ?? "null");
  }
  return out.join("");
}

/**
 * A value as it is written, safe to read on a terminal: plain words as is, anything else
 * JSON-quoted with every character outside printable ASCII escaped, so control sequences,
 * bidi overrides and look-alike letters show as `\uXXXX` instead of hiding what the file says.
 */
export function quoteForTerminal(text: string): string {
  if (/^[A-Za-z0-9_\-.,/:@%+=~]+$/.test(text)) return text;
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
