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

/**
 * Code points that the current Unicode (as this runtime's regular expressions know it) counts
 * as identifier characters but TypeScript's own tables do not (TypeScript 6 scans identifiers
 * with Unicode 15.1 tables; these are Unicode 16 additions, U+1C8A among them). Found by
 * feeding every `\p{ID_Start}` and `\p{ID_Continue}` code point to `deno check`; the security
 * spec `tests/security/codegen_identifiers_test.ts` does that again, so a newer runtime whose
 * Unicode outgrows these lists fails a spec instead of breaking generated modules.
 */
const NEWER_THAN_TS_START = String.raw`\u{1C89}-\u{1C8A}\u{A7CB}-\u{A7CD}\u{A7DA}-\u{A7DC}` +
  String.raw`\u{105C0}-\u{105F3}\u{10D4A}-\u{10D85}\u{10EC2}-\u{10EC4}\u{11380}-\u{113D3}` +
  String.raw`\u{11BC0}-\u{11BE0}\u{13460}-\u{143FA}\u{16100}-\u{1611D}\u{16D40}-\u{16D6C}` +
  String.raw`\u{18CFF}\u{1E5D0}-\u{1E5F0}`;
const NEWER_THAN_TS_PART = String.raw`\u{0897}\u{1C89}-\u{1C8A}\u{A7CB}-\u{A7CD}` +
  String.raw`\u{A7DA}-\u{A7DC}\u{105C0}-\u{105F3}\u{10D40}-\u{10D85}\u{10EC2}-\u{10EFC}` +
  String.raw`\u{11380}-\u{113E2}\u{116D0}-\u{116E3}\u{11BC0}-\u{11BF9}\u{11F5A}` +
  String.raw`\u{13460}-\u{143FA}\u{16100}-\u{16139}\u{16D40}-\u{16D79}\u{18CFF}` +
  String.raw`\u{1CCF0}-\u{1CCF9}\u{1E5D0}-\u{1E5FA}`;

/** A character TypeScript accepts at the start of an identifier. */
const ID_START = String.raw`[[\p{ID_Start}$_]--[${NEWER_THAN_TS_START}]]`;
/** A character TypeScript accepts after the start of an identifier. */
const ID_PART = String.raw`[[\p{ID_Continue}$\u200C\u200D]--[${NEWER_THAN_TS_PART}]]`;
const IDENTIFIER = new RegExp(`^${ID_START}${ID_PART}*$`, "v");
const STARTS_IDENTIFIER = new RegExp(`^${ID_START}`, "v");
const NOT_ID_PART = new RegExp(`(?!${ID_PART}).`, "gv");

/**
 * A run of identifier characters other than `_` (and other than `$`, ZWNJ and ZWJ, which are
 * no letters); everything else separates words.
 */
const WORD = new RegExp(String.raw`[\p{ID_Continue}--[_\u200C\u200D${NEWER_THAN_TS_PART}]]+`, "gv");

/**
 * True when TypeScript accepts `text` as an identifier name (a property name, or a binding
 * name unless reserved): an identifier start followed by identifier parts, as TypeScript's
 * scanner reads them, not as the newest Unicode does.
 */
export function isTsIdentifier(text: string): boolean {
  return IDENTIFIER.test(text);
}

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
  const first = String.fromCodePoint(word.codePointAt(0) ?? 0x5f);
  return first.toUpperCase() + word.slice(first.length).toLowerCase();
}

/**
 * Makes an identifier of a joined word list: changing case can yield characters TypeScript
 * does not know (`"ɤ".toUpperCase()` is the Unicode 16 U+A7CB), so whatever is no identifier
 * part is dropped; a non-start first character gets a leading `_`, an empty result is `_`.
 */
function fixStart(joined: string): string {
  const identifier = joined.replace(NOT_ID_PART, "");
  if (identifier === "") return "_";
  return STARTS_IDENTIFIER.test(identifier) ? identifier : `_${identifier}`;
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
