/**
 * TypeScript type expressions as text, for the schema translator (private to this folder):
 * unions and intersections that simplify and parenthesise themselves, literal types and
 * property keys.
 */

import { isTsIdentifier } from "./names.ts";

/** How a type expression binds: decides where parentheses are needed. */
export type Kind = "atom" | "union" | "intersection";

/** A type expression and how it binds. */
export interface Ty {
  text: string;
  kind: Kind;
  /**
   * At most how many members the type has once TypeScript distributes its intersections
   * over its unions (type aliases it names included), capped at {@link WIDTH_CAP}. TypeScript
   * refuses a type whose distribution passes 100 000 members (TS2590), so the translator
   * keeps this small. Default 1.
   */
  width?: number;
}

/** Widths are counted up to this and stop there (one past the translator's limit suffices). */
export const WIDTH_CAP = 1_000_001;

/** `unknown`: absorbs unions, vanishes from intersections. */
export const UNKNOWN: Ty = { text: "unknown", kind: "atom" };
/** `never`: vanishes from unions, absorbs intersections. */
export const NEVER: Ty = { text: "never", kind: "atom" };

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A type that needs no parentheses anywhere; `width` for a name of a wide type alias. */
export function atom(text: string, width = 1): Ty {
  return width === 1 ? { text, kind: "atom" } : { text, kind: "atom", width };
}

/** The {@link Ty.width} of a type. */
export function widthOf(ty: Ty): number {
  return ty.width ?? 1;
}

/** `A | B`, deduplicated; `unknown` if any member is. */
export function union(members: Ty[]): Ty {
  if (members.length === 1) return members[0];
  if (members.some((m) => m.text === "unknown")) return UNKNOWN;
  const distinct = new Map<string, Ty>();
  for (const m of members) if (m.text !== "never" && !distinct.has(m.text)) distinct.set(m.text, m);
  if (distinct.size === 0) return NEVER;
  if (distinct.size === 1) return [...distinct.values()][0];
  let width = 0;
  for (const m of distinct.values()) width = Math.min(WIDTH_CAP, width + widthOf(m));
  const text = [...distinct.values()]
    .map((m) => m.kind === "intersection" ? `(${m.text})` : m.text)
    .join(" | ");
  return { text, kind: "union", width };
}

/** `A & B`, deduplicated, without `unknown` members; `never` if any member is. */
export function intersection(members: Ty[]): Ty {
  if (members.length === 1) return members[0];
  if (members.some((m) => m.text === "never")) return NEVER;
  const distinct = new Map<string, Ty>();
  for (const m of members) {
    if (m.text !== "unknown" && !distinct.has(m.text)) distinct.set(m.text, m);
  }
  if (distinct.size === 0) return UNKNOWN;
  if (distinct.size === 1) return [...distinct.values()][0];
  let width = 1;
  for (const m of distinct.values()) width = Math.min(WIDTH_CAP, width * widthOf(m));
  const text = [...distinct.values()]
    .map((m) => m.kind === "union" ? `(${m.text})` : m.text)
    .join(" & ");
  return { text, kind: "intersection", width };
}

/** The text, parenthesised unless it is an atom (for `T[]` and `T?`). */
export function paren(ty: Ty): string {
  return ty.kind === "atom" ? ty.text : `(${ty.text})`;
}

/**
 * Characters `JSON.stringify` leaves raw that a terminal or an editor acts on: DEL, the C1
 * controls, the bidi controls and the two Unicode line separators. Outside strings JSON has
 * none of them, so escaping them keeps the meaning of the text.
 */
const RAW_IN_JSON = /[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `JSON.stringify(value)` with every character that could act on a terminal escaped
 * (`\u001b` is escaped by JSON already; this adds DEL, C1, bidi and line separators), so the
 * text is a valid TypeScript literal that prints safely.
 */
export function jsonText(value: unknown): string {
  return String(JSON.stringify(value)).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * A property name as written in a type literal: bare when TypeScript reads it as an
 * identifier, else quoted.
 */
export function propertyKey(key: string): string {
  return isTsIdentifier(key) ? key : jsonText(key);
}

/** How deeply a `const` or `enum` value may nest before it is no literal type. */
const MAX_LITERAL_DEPTH = 32;

/**
 * The literal type of a JSON value, or `undefined` for anything that is not JSON or nests
 * deeper than 32 levels.
 */
export function literal(value: unknown, depth = 0): Ty | undefined {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return atom(jsonText(value));
  }
  if (typeof value === "number") return Number.isFinite(value) ? atom(String(value)) : undefined;
  if (depth >= MAX_LITERAL_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => literal(item, depth + 1));
    return items.every((i) => i) ? atom(`[${items.map((i) => i!.text).join(", ")}]`) : undefined;
  }
  if (isJsonObject(value)) {
    const entries = Object.entries(value).map(([k, v]) => [k, literal(v, depth + 1)] as const);
    if (!entries.every(([, v]) => v)) return undefined;
    return atom(`{ ${entries.map(([k, v]) => `${propertyKey(k)}: ${v!.text}`).join("; ")} }`);
  }
  return undefined;
}
