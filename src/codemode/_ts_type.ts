/**
 * TypeScript type expressions as text, for the schema translator (private to this folder):
 * unions and intersections that simplify and parenthesise themselves, literal types and
 * property keys.
 */

/** How a type expression binds: decides where parentheses are needed. */
export type Kind = "atom" | "union" | "intersection";

/** A type expression and how it binds. */
export interface Ty {
  text: string;
  kind: Kind;
}

/** `unknown`: absorbs unions, vanishes from intersections. */
export const UNKNOWN: Ty = { text: "unknown", kind: "atom" };
/** `never`: vanishes from unions, absorbs intersections. */
export const NEVER: Ty = { text: "never", kind: "atom" };

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A type that needs no parentheses anywhere. */
export function atom(text: string): Ty {
  return { text, kind: "atom" };
}

/** `A | B`, deduplicated; `unknown` if any member is. */
export function union(members: Ty[]): Ty {
  if (members.some((m) => m.text === "unknown")) return UNKNOWN;
  const texts = [...new Set(members.filter((m) => m.text !== "never").map((m) => m.text))];
  if (texts.length === 0) return NEVER;
  if (texts.length === 1) return members.find((m) => m.text === texts[0])!;
  const wrapped = members.filter((m) => m.kind === "intersection").map((m) => m.text);
  return {
    text: texts.map((t) => wrapped.includes(t) ? `(${t})` : t).join(" | "),
    kind: "union",
  };
}

/** `A & B`, deduplicated, without `unknown` members; `never` if any member is. */
export function intersection(members: Ty[]): Ty {
  if (members.some((m) => m.text === "never")) return NEVER;
  const kept = members.filter((m) => m.text !== "unknown");
  const texts = [...new Set(kept.map((m) => m.text))];
  if (texts.length === 0) return UNKNOWN;
  if (texts.length === 1) return kept.find((m) => m.text === texts[0])!;
  const wrapped = kept.filter((m) => m.kind === "union").map((m) => m.text);
  return {
    text: texts.map((t) => wrapped.includes(t) ? `(${t})` : t).join(" & "),
    kind: "intersection",
  };
}

/** The text, parenthesised unless it is an atom (for `T[]` and `T?`). */
export function paren(ty: Ty): string {
  return ty.kind === "atom" ? ty.text : `(${ty.text})`;
}

/** A property name as written in a type literal: bare when an identifier, else quoted. */
export function propertyKey(key: string): string {
  return /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u.test(key) ? key : JSON.stringify(key);
}

/** The literal type of a JSON value, or `undefined` for anything that is not JSON. */
export function literal(value: unknown): Ty | undefined {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return atom(JSON.stringify(value));
  }
  if (typeof value === "number") return Number.isFinite(value) ? atom(String(value)) : undefined;
  if (Array.isArray(value)) {
    const items = value.map(literal);
    return items.every((i) => i) ? atom(`[${items.map((i) => i!.text).join(", ")}]`) : undefined;
  }
  if (isJsonObject(value)) {
    const entries = Object.entries(value).map(([k, v]) => [k, literal(v)] as const);
    if (!entries.every(([, v]) => v)) return undefined;
    return atom(`{ ${entries.map(([k, v]) => `${propertyKey(k)}: ${v!.text}`).join("; ")} }`);
  }
  return undefined;
}
