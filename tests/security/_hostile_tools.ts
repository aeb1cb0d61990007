/**
 * Hostile tool definitions an upstream might list (private to tests/security): schemas that
 * explode or nest without end, names TypeScript cannot take as identifiers, and names and
 * descriptions full of terminal escapes.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import type { Tool } from "@modelcontextprotocol/sdk/types.js";

/** How many levels the exponential schema has: 2^23 paths when each `$ref` is expanded. */
export const EXPONENTIAL_LEVELS = 23;
/** How deeply the deep schemas nest. */
export const DEEP_LEVELS = 20_000;

/**
 * `n_i = {anyOf: [{$ref: n_(i+1)}, {$ref: n_(i+1)}]}` for `levels` levels (1.5 KB), with the
 * definitions under `container` (`$defs`, or any other key: a `$ref` may point anywhere).
 */
export function exponentialSchema(levels: number, container: string): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const ref = (i: number) => ({ $ref: `#/${container}/n${i}` });
  for (let i = 0; i < levels; i++) defs[`n${i}`] = { anyOf: [ref(i + 1), ref(i + 1)] };
  defs[`n${levels}`] = { type: "object", properties: { leaf: { type: "string" } } };
  return { type: "object", properties: { root: ref(0) }, required: ["root"], [container]: defs };
}

/** A schema whose `properties` nest `levels` deep (and another whose `anyOf`s do). */
export function deepSchemas(levels: number): Record<string, unknown>[] {
  let properties: Record<string, unknown> = { type: "string" };
  let anyOf: Record<string, unknown> = { type: "string" };
  let constValue: unknown = 1;
  for (let i = 0; i < levels; i++) {
    properties = { type: "object", properties: { a: properties } };
    anyOf = { anyOf: [anyOf, { type: "number" }] };
    constValue = [constValue];
  }
  return [
    properties,
    {
      type: "object",
      properties: { x: { $ref: "#/$defs/deep" }, c: { const: constValue, default: constValue } },
      $defs: { deep: anyOf },
    },
  ];
}

/** Code points current Unicode counts as letters but TypeScript's scanner rejects. */
export const REJECTED_IDENTIFIER_CHARS = ["\u1C8A", "\u{A7CB}", "\u{16D40}", "\u{1E5D0}"];

/** An escape sequence that clears the screen, retitles the window and hides text. */
export const ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b[8m\x9b31m\u202e";

/** The hostile tools, plus one plain tool (`plain`) that must stay usable. */
export function hostileTools(): Tool[] {
  const object = (schema: Record<string, unknown>) => schema as Tool["inputSchema"];
  const variants = (tag: string) => ({
    anyOf: Array.from({ length: 50 }, (_, i) => ({
      type: "object",
      properties: { [`${tag}${i}`]: { type: "string" } },
      required: [`${tag}${i}`],
    })),
  });
  const [deepProperties, deepAnyOf] = deepSchemas(DEEP_LEVELS);
  return [
    {
      name: "plain",
      description: "A plain tool.",
      inputSchema: object({ type: "object", properties: { q: { type: "string" } } }),
    },
    {
      name: "exponential_defs",
      inputSchema: object(exponentialSchema(EXPONENTIAL_LEVELS, "$defs")),
    },
    { name: "exponential_other", inputSchema: object(exponentialSchema(EXPONENTIAL_LEVELS, "x")) },
    { name: "deep_properties", inputSchema: object(deepProperties) },
    { name: "deep_any_of", inputSchema: object(deepAnyOf) },
    {
      name: "cross_product",
      description: "TypeScript would distribute this into 125 000 members.",
      inputSchema: object({ type: "object", allOf: [variants("a"), variants("b"), variants("c")] }),
    },
    ...REJECTED_IDENTIFIER_CHARS.map((c, i): Tool => ({
      name: i === 0 ? c : `tool_${c}_${i}`,
      description: `Named with U+${c.codePointAt(0)!.toString(16).toUpperCase()}.`,
      inputSchema: object({
        type: "object",
        properties: { [c]: { type: "string" }, [`a${c}`]: { $ref: `#/$defs/${c}` } },
        required: [c],
        $defs: { [c]: { type: "number" } },
      }),
    })),
    {
      name: `evil${ESCAPES}name`,
      description: `${ESCAPES}Looks harmless.*/ export const injected = 1; /*\r\u2028next`,
      inputSchema: object({
        type: "object",
        properties: {
          [`k${ESCAPES}`]: {
            enum: [`v${ESCAPES}`],
            description: `d${ESCAPES}*/`,
            default: `x${ESCAPES}`,
          },
        },
      }),
    },
  ];
}
