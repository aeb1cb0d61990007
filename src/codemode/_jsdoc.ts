/** JSDoc comment rendering shared by the code-mode generators (private to this folder). */

import { stripControlChars } from "../log.ts";
import { jsonText } from "./_ts_type.ts";

/** One JSDoc block: free text first, then `@tag value` lines in the given order. */
export interface JsDocParts {
  text?: string;
  tags?: Array<[tag: string, value?: string]>;
}

/** Longest description text kept in a JSDoc block; longer text is cut and ends in `…`. */
const MAX_TEXT_CHARS = 8_192;
/** Longest tag value (`@default`, `@example`) kept. */
const MAX_TAG_CHARS = 512;

function sanitize(text: string, maxChars: number): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  // `*/` would end the comment early; nothing else in a comment can break the code. Control
  // characters cannot either, but `toolscript types` prints this text on a terminal.
  return stripControlChars(
    cut.replaceAll("\r\n", "\n").replace(/[\r\u2028\u2029]/g, "\n"),
  ).replaceAll("*/", "*\\/");
}

/**
 * Renders a JSDoc block indented by `indent`, with a trailing newline, or `""` when there
 * is nothing to say. Blank leading and trailing lines of the text are dropped.
 */
export function renderJsDoc(parts: JsDocParts, indent = ""): string {
  const lines: string[] = [];
  const text = sanitize(parts.text ?? "", MAX_TEXT_CHARS).replace(/^\s*\n/, "").trimEnd();
  if (text !== "") lines.push(...text.split("\n").map((line) => line.trimEnd()));
  for (const [tag, value] of parts.tags ?? []) {
    const valueLines = value === undefined
      ? []
      : sanitize(value, MAX_TAG_CHARS).trimEnd().split("\n");
    const [first = "", ...rest] = valueLines;
    lines.push(first === "" ? `@${tag}` : `@${tag} ${first}`, ...rest.map((l) => l.trimEnd()));
  }
  if (lines.length === 0) return "";
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  const body = lines.map((line) => line === "" ? `${indent} *` : `${indent} * ${line}`);
  return `${indent}/**\n${body.join("\n")}\n${indent} */\n`;
}

/** The first non-blank line of a description, trimmed; `""` when there is none. */
export function firstLine(text: string | undefined): string {
  return (text ?? "").split(/\r\n|\r|\n/).map((line) => line.trim()).find((l) => l !== "") ?? "";
}

/** A value as JSON for a tag, or `undefined` when it nests too deeply to serialise. */
function docJson(value: unknown): string | undefined {
  try {
    return jsonText(value);
  } catch (error) {
    if (error instanceof RangeError) return undefined; // the stack ran out: leave the tag out
    throw error;
  }
}

/** The JSDoc for a schema: description (or title), `@default`, `@example`, `@deprecated`. */
export function schemaJsDoc(schema: unknown, indent: string): string {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return "";
  const s = schema as Record<string, unknown>;
  const text = typeof s.description === "string"
    ? s.description
    : typeof s.title === "string"
    ? s.title
    : undefined;
  const tags: Array<[string, string?]> = [];
  const tag = (name: string, value: unknown) => {
    const json = docJson(value);
    if (json !== undefined) tags.push([name, json]);
  };
  if ("default" in s) tag("default", s.default);
  const examples = Array.isArray(s.examples) ? s.examples : "example" in s ? [s.example] : [];
  for (const example of examples) tag("example", example);
  if (s.deprecated === true) tags.push(["deprecated"]);
  return renderJsDoc({ text, tags }, indent);
}
