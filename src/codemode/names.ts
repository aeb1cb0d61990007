/**
 * Turns server and tool names (`my-calc`, `add_numbers`, `GetHTTPStatus`) into TypeScript
 * identifiers for the generated tools module, and resolves the collisions that folding
 * case and dropping separators can cause.
 */

/** Words reserved in strict-mode JavaScript and TypeScript type positions. */
const RESERVED = new Set([
  "arguments",
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "enum",
  "eval",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "implements",
  "import",
  "in",
  "instanceof",
  "interface",
  "let",
  "new",
  "null",
  "package",
  "private",
  "protected",
  "public",
  "return",
  "static",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "undefined",
  "var",
  "void",
  "while",
  "with",
  "yield",
]);

/** A run of identifier characters other than `_`; everything else separates words. */
const WORD = /(?:(?!_)[\p{ID_Continue}])+/gu;

/**
 * Splits a name into words at separators (anything that cannot appear in an identifier,
 * plus `_`) and at case changes: `getHTTPResponse_v2` → `get`, `HTTP`, `Response`, `v2`.
 * Digits stay with the letters before them.
 */
export function splitWords(name: string): string[] {
  const words: string[] = [];
  for (const [chunk] of name.matchAll(WORD)) {
    const parts = chunk
      .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, "$1\u0000$2")
      .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, "$1\u0000$2")
      .split("\u0000");
    words.push(...parts.filter((part) => part !== ""));
  }
  return words;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

function fixStart(identifier: string): string {
  if (identifier === "") return "_";
  return /^\p{ID_Start}/u.test(identifier) ? identifier : `_${identifier}`;
}

/**
 * Converts a name to a camelCase identifier: `my-calc` → `myCalc`, `add_numbers` →
 * `addNumbers`, `GetHTTPStatus` → `getHttpStatus`. A name that would start with a digit
 * gets a leading `_` (`2fa` → `_2fa`), a reserved word a trailing `_` (`delete` →
 * `delete_`), and a name without any letter or digit becomes `_`.
 */
export function toCamelCase(name: string): string {
  const words = splitWords(name);
  const joined = words.map((word, i) => i === 0 ? word.toLowerCase() : capitalize(word)).join("");
  const identifier = fixStart(joined);
  return RESERVED.has(identifier) ? `${identifier}_` : identifier;
}

/**
 * Converts a name to a PascalCase identifier: `my-calc` → `MyCalc`, `get_user` →
 * `GetUser`. A name that would start with a digit gets a leading `_`; a name without any
 * letter or digit becomes `_`.
 */
export function toPascalCase(name: string): string {
  return fixStart(splitWords(name).map(capitalize).join(""));
}

/** Options for {@link assignUniqueNames}. */
export interface AssignUniqueNamesOptions {
  /** Maps an original name to its identifier; defaults to {@link toCamelCase}. */
  transform?: (name: string) => string;
  /** Identifiers already in use; none of them is handed out. */
  taken?: Iterable<string>;
}

/**
 * Gives every distinct name a distinct identifier.
 *
 * The rule, which makes the result independent of input order: the distinct original
 * names are sorted by UTF-16 code units; each is transformed (camelCase by default); the
 * first name to produce an identifier keeps it, and each later one gets the lowest free
 * suffix `_2`, `_3`, … (just `2`, `3`, … when the identifier already ends in `_`). So
 * `get-user` and `get_user` become `getUser` and `getUser_2`.
 *
 * @example
 * ```ts
 * import { assignUniqueNames } from "./names.ts";
 * const names = assignUniqueNames(["get_user", "get-user"]);
 * names.get("get-user"); // "getUser"
 * names.get("get_user"); // "getUser_2"
 * ```
 */
export function assignUniqueNames(
  names: readonly string[],
  options: AssignUniqueNamesOptions = {},
): Map<string, string> {
  const transform = options.transform ?? toCamelCase;
  const used = new Set(options.taken);
  const result = new Map<string, string>();
  const sorted = [...new Set(names)].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  for (const name of sorted) {
    const base = transform(name);
    let unique = base;
    const separator = base.endsWith("_") ? "" : "_";
    for (let n = 2; used.has(unique); n++) unique = `${base}${separator}${n}`;
    used.add(unique);
    result.set(name, unique);
  }
  return result;
}
