/**
 * JSON Schema (the draft 2020-12 / draft-07 subset MCP tools use) → TypeScript type
 * declarations, written by hand: synchronous, dependency-free and deterministic.
 */

import { schemaJsDoc } from "./_jsdoc.ts";
import {
  atom,
  intersection,
  isJsonObject,
  jsonText,
  literal,
  NEVER,
  paren,
  propertyKey,
  type Ty,
  union,
  UNKNOWN,
  WIDTH_CAP,
  widthOf,
} from "./_ts_type.ts";
import { isTsIdentifier, toPascalCase } from "./names.ts";

/** Output still allowed, shared by the {@link schemaToTs} calls that write one module. */
export interface OutputBudget {
  /** Characters of declarations left; each call subtracts what it writes. */
  remainingChars: number;
}

/** Options for {@link schemaToTs}. */
export interface SchemaToTsOptions {
  /** Name of the root type; must be a valid TypeScript identifier. */
  name: string;
  /** Called once per construct that had to degrade to `unknown`; defaults to ignoring it. */
  onWarning?: (message: string) => void;
  /**
   * Type names already declared next to the output. Names for `$ref` targets avoid them, and
   * every name this call declares (the root included) is added, so sharing one set across
   * calls keeps a module free of duplicate declarations.
   */
  takenNames?: Set<string>;
  /** Most characters this call writes; default {@link DEFAULT_MAX_CHARS}. */
  maxChars?: number;
  /** A budget shared with other calls; this call writes no more than it has left. */
  budget?: OutputBudget;
}

/** What {@link schemaToTs} produces. */
export interface SchemaToTsResult {
  /** `export type …` declarations: the root type first, then each referenced definition. */
  declarations: string;
  /** Name of the root type (the `name` option). */
  typeName: string;
}

/** Default {@link SchemaToTsOptions.maxChars}: 256 KiB of declarations per schema. */
export const DEFAULT_MAX_CHARS = 256 * 1024;

type Schema = Record<string, unknown>;
interface State {
  indent: string;
  path: string;
  /** The `$ref` target (canonical pointer) whose type alias is being written. */
  owner: string;
  /** Outside any object member and array element: a reference here could be circular. */
  direct: boolean;
  depth: number;
}

/** How deeply one type alias may nest; deeper parts are `unknown`. */
const MAX_DEPTH = 64;
/** Most schema nodes one call translates; the rest are `unknown`. */
const MAX_NODES = 20_000;
/** Most `$ref` targets (each a type alias) one call declares; further ones are `unknown`. */
const MAX_ALIASES = 1_000;
const PRIMITIVES: Record<string, string> = {
  string: "string",
  number: "number",
  integer: "number",
  boolean: "boolean",
  null: "null",
};
const OBJECT_KEYWORDS = ["properties", "additionalProperties", "patternProperties", "required"];
const ARRAY_KEYWORDS = ["items", "prefixItems", "additionalItems"];
const COMBINATORS = ["anyOf", "oneOf", "allOf"];
/**
 * Most members a type may distribute to (see `Ty.width`); wider ones are `unknown`. Far
 * below TypeScript's own limit, so that a module stays quick to check.
 */
const MAX_WIDTH = 1_000;
/** How many type aliases deep {@link Generator} follows references to estimate widths. */
const MAX_WIDTH_HOPS = 16;
/** Longest index-signature type built from the members' types; longer ones are `unknown`. */
const MAX_INDEX_CHARS = 1_000;

/** How many distinct {@link jsonKind}s there are. */
const PRIMITIVE_KINDS = 6;

/** The TypeScript type of a JSON value's kind: `string`, `number`, … */
function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "unknown[]";
  if (typeof value === "object") return "Record<string, unknown>";
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? typeof value
    : "unknown";
}

function escapePointer(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** The keys of a local JSON pointer (`#/a/b~1c` → `a`, `b/c`), or `undefined`. */
function pointerKeys(ref: string): string[] | undefined {
  if (ref === "#") return [];
  if (!ref.startsWith("#/")) return undefined;
  const keys: string[] = [];
  for (const raw of ref.slice(2).split("/")) {
    try {
      keys.push(decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~"));
    } catch {
      return undefined;
    }
  }
  return keys;
}

/**
 * Writes one type alias per `$ref` target, each once: a reference is the alias's name, so
 * neither repeated nor recursive references expand. Aliases are written from a queue, and
 * the walk through one alias's schema stops at {@link MAX_DEPTH}, so no schema can exhaust
 * the stack.
 */
class Generator {
  readonly #root: unknown;
  readonly #name: string;
  readonly #warn: (message: string) => void;
  readonly #taken: Set<string>;
  readonly #budget: OutputBudget;
  #maxChars: number;
  /** Canonical pointer → type alias name, in order of first reference. */
  readonly #named = new Map<string, string>();
  readonly #queue: string[] = [];
  readonly #directCache = new Map<string, Set<string>>();
  readonly #reachCache = new Map<string, Set<string>>();
  readonly #aliasWidths = new Map<string, number>();
  #nodes = 0;
  #tooLarge = false;

  constructor(root: unknown, options: SchemaToTsOptions) {
    this.#root = root;
    this.#name = options.name;
    this.#warn = options.onWarning ?? (() => {});
    this.#taken = options.takenNames ?? new Set();
    this.#budget = options.budget ?? { remainingChars: Infinity };
    this.#maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    this.#taken.add(options.name);
    this.#named.set("#", options.name);
  }

  generate(): string {
    const out: string[] = [];
    this.#queue.push("#");
    for (let pointer = this.#queue.shift(); pointer; pointer = this.#queue.shift()) {
      const name = this.#named.get(pointer)!;
      let declaration = this.#tooLarge ? "" : this.#declare(pointer, name);
      const limit = Math.min(this.#maxChars, this.#budget.remainingChars);
      if (this.#tooLarge || declaration.length > limit) {
        this.#sizeExceeded(pointer);
        declaration = `export type ${name} = unknown;\n`;
      }
      this.#maxChars -= declaration.length;
      this.#budget.remainingChars -= declaration.length;
      out.push(declaration);
    }
    return out.join("\n");
  }

  #declare(pointer: string, name: string): string {
    const schema = this.#resolve(pointer);
    const state: State = {
      indent: "",
      path: pointer.slice(1),
      owner: pointer,
      direct: true,
      depth: 0,
    };
    const ty = this.#render(schema, state);
    return `${schemaJsDoc(schema, "")}export type ${name} = ${ty.text};\n`;
  }

  #degrade(state: State, problem: string): Ty {
    this.#warn(`${this.#name}: ${problem} at "${state.path || "/"}"; using unknown`);
    return UNKNOWN;
  }

  /** Warns once that the output is too large; from then on every alias is `unknown`. */
  #sizeExceeded(pointer: string): void {
    if (!this.#tooLarge) {
      this.#warn(
        `${this.#name}: generated types too large at "${pointer.slice(1) || "/"}"; ` +
          "using unknown from there on",
      );
    }
    this.#tooLarge = true;
  }

  /** The canonical form of a local pointer (one spelling per target), or `undefined`. */
  #canonical(ref: string): string | undefined {
    const keys = pointerKeys(ref);
    return keys && `#${keys.map((key) => `/${escapePointer(key)}`).join("")}`;
  }

  #resolve(pointer: string): unknown {
    let node: unknown = this.#root;
    for (const key of pointerKeys(pointer) ?? []) {
      if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  }

  #typeNameFor(pointer: string): string | undefined {
    let name = this.#named.get(pointer);
    if (name === undefined) {
      if (this.#named.size >= MAX_ALIASES) return undefined;
      const last = pointerKeys(pointer)!.at(-1)!;
      const base = `${this.#name}${toPascalCase(last)}`;
      name = base;
      for (let n = 2; this.#taken.has(name); n++) name = `${base}_${n}`;
      this.#taken.add(name);
      this.#named.set(pointer, name);
      this.#queue.push(pointer);
    }
    return name;
  }

  /**
   * The `$ref` targets a target's alias mentions outside any object member or array element
   * (where TypeScript would see a circular alias), found without recursion and only as deep
   * as {@link MAX_DEPTH}, like the translation itself.
   */
  #directRefs(pointer: string): Set<string> {
    let refs = this.#directCache.get(pointer);
    if (refs) return refs;
    refs = new Set();
    this.#directCache.set(pointer, refs);
    const stack: Array<[schema: unknown, depth: number]> = [[this.#resolve(pointer), 0]];
    for (let next = stack.pop(); next; next = stack.pop()) {
      const [schema, depth] = next;
      if (!isJsonObject(schema) || depth > MAX_DEPTH) continue;
      const target = typeof schema.$ref === "string" ? this.#canonical(schema.$ref) : undefined;
      if (target !== undefined) refs.add(target);
      for (const key of COMBINATORS) {
        const list = schema[key];
        if (Array.isArray(list)) { for (const sub of list) stack.push([sub, depth + 1]); }
      }
    }
    return refs;
  }

  /** Whether `to` is among the targets reachable from `from` through direct references. */
  #reaches(from: string, to: string): boolean {
    let reachable = this.#reachCache.get(from);
    if (!reachable) {
      reachable = new Set();
      const stack = [from];
      for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
        if (reachable.has(next)) continue;
        reachable.add(next);
        stack.push(...this.#directRefs(next));
      }
      this.#reachCache.set(from, reachable);
    }
    return reachable.has(to);
  }

  #ref(ref: unknown, state: State): Ty {
    const at = { ...state, path: `${state.path}/$ref` };
    const pointer = typeof ref === "string" ? this.#canonical(ref) : undefined;
    if (pointer === undefined) return this.#degrade(at, `unsupported $ref ${jsonText(ref)}`);
    if (this.#resolve(pointer) === undefined) {
      return this.#degrade(at, `unresolvable $ref ${jsonText(ref)}`);
    }
    if (state.direct && this.#reaches(pointer, state.owner)) {
      return this.#degrade(at, `$ref ${jsonText(ref)} makes a type alias refer to itself`);
    }
    const name = this.#typeNameFor(pointer);
    if (name === undefined) return this.#degrade(at, "too many $ref targets");
    return atom(name, this.#aliasWidth(pointer, 0));
  }

  /**
   * An upper bound of the width (`Ty.width`) of the alias for `pointer`, from its schema: no
   * duplicate is removed and nothing degrades, so the alias as written is never wider. A
   * reference back into an alias being estimated counts 1 (the translation degrades it to
   * `unknown`); past {@link MAX_WIDTH_HOPS} references the estimate is "too wide".
   */
  #aliasWidth(pointer: string, hops: number): number {
    const known = this.#aliasWidths.get(pointer);
    if (known !== undefined) return known;
    if (hops > MAX_WIDTH_HOPS) return WIDTH_CAP;
    this.#aliasWidths.set(pointer, 1);
    const width = this.#schemaWidth(this.#resolve(pointer), 0, hops);
    this.#aliasWidths.set(pointer, width);
    return width;
  }

  /** The width bound of one schema node, following what {@link Generator.#render} combines. */
  #schemaWidth(schema: unknown, depth: number, hops: number): number {
    if (!isJsonObject(schema) || depth > MAX_DEPTH) return 1;
    const times = (a: number, b: number) => Math.min(WIDTH_CAP, a * b);
    let width = 1;
    if (!("const" in schema) && Array.isArray(schema.enum)) {
      width = schema.enum.length > MAX_WIDTH ? PRIMITIVE_KINDS : schema.enum.length;
    } else if (Array.isArray(schema.type)) width = new Set(schema.type).size;
    const pointer = typeof schema.$ref === "string" ? this.#canonical(schema.$ref) : undefined;
    if (pointer !== undefined) width = times(width, this.#aliasWidth(pointer, hops + 1));
    for (const key of COMBINATORS) {
      const list = schema[key];
      if (!Array.isArray(list) || list.length === 0) continue;
      let combined = key === "allOf" ? 1 : 0;
      for (const sub of list) {
        const w = this.#schemaWidth(sub, depth + 1, hops);
        combined = key === "allOf" ? times(combined, w) : Math.min(WIDTH_CAP, combined + w);
      }
      width = times(width, combined);
    }
    return schema.nullable === true ? Math.min(WIDTH_CAP, width + 1) : width;
  }

  #render(schema: unknown, state: State): Ty {
    if (schema === true) return UNKNOWN;
    if (schema === false) return NEVER;
    if (!isJsonObject(schema)) return this.#degrade(state, "schema is not an object");
    if (state.depth > MAX_DEPTH) return this.#degrade(state, "schema nests too deeply");
    if (++this.#nodes > MAX_NODES) {
      this.#sizeExceeded(state.owner);
      return UNKNOWN;
    }
    const parts: Ty[] = [];
    const base = this.#renderBase(schema, state);
    if (base) parts.push(base);
    if ("$ref" in schema) parts.push(this.#ref(schema.$ref, state));
    for (const key of COMBINATORS.slice(0, 2)) {
      const list = schema[key];
      if (!Array.isArray(list) || list.length === 0) continue;
      parts.push(union(list.map((s, i) => this.#render(s, this.#at(state, `${key}/${i}`)))));
    }
    if (Array.isArray(schema.allOf)) {
      parts.push(...schema.allOf.map((s, i) => this.#render(s, this.#at(state, `allOf/${i}`))));
    }
    const combined = intersection(parts);
    const ty = schema.nullable === true ? union([combined, atom("null")]) : combined;
    // A lone alias name may stand for a wide type; combining it is what TypeScript distributes.
    if (ty.kind !== "atom" && widthOf(ty) > MAX_WIDTH) {
      return this.#degrade(state, "type has too many alternatives");
    }
    return ty;
  }

  #at(state: State, segment: string, nested = false): State {
    return {
      ...state,
      path: `${state.path}/${segment}`,
      direct: state.direct && !nested,
      depth: state.depth + 1,
      indent: nested ? `${state.indent}  ` : state.indent,
    };
  }

  #renderBase(schema: Schema, state: State): Ty | undefined {
    if ("const" in schema) {
      return literal(schema.const) ?? this.#degrade(state, "unsupported const value");
    }
    if (Array.isArray(schema.enum)) {
      if (schema.enum.length > MAX_WIDTH) {
        this.#degrade(state, `enum of ${schema.enum.length} values`);
        return union([...new Set(schema.enum.map(jsonKind))].map((kind) => atom(kind)));
      }
      const members = schema.enum.map((value) => literal(value));
      if (members.every((m) => m)) return union(members as Ty[]);
      return this.#degrade(state, "unsupported enum value");
    }
    const types = typeof schema.type === "string" ? [schema.type] : schema.type;
    if (Array.isArray(types)) {
      // Each distinct type once: `["object", "object", …]` must not translate a subtree twice.
      return union([...new Set(types)].map((t) => this.#renderType(t, schema, state)));
    }
    if (schema.type !== undefined) return this.#degrade(state, "unsupported type keyword");
    if (OBJECT_KEYWORDS.some((k) => k in schema)) return this.#object(schema, state);
    if (ARRAY_KEYWORDS.some((k) => k in schema)) return this.#array(schema, state);
    return undefined;
  }

  #renderType(type: unknown, schema: Schema, state: State): Ty {
    if (typeof type === "string" && type in PRIMITIVES) return atom(PRIMITIVES[type]);
    if (type === "object") return this.#object(schema, state);
    if (type === "array") return this.#array(schema, state);
    return this.#degrade(state, `unsupported type ${jsonText(type)}`);
  }

  #object(schema: Schema, state: State): Ty {
    const properties = isJsonObject(schema.properties) ? schema.properties : {};
    const required = new Set(
      Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === "string") : [],
    );
    const inner = `${state.indent}  `;
    const members: string[] = [];
    const memberTypes: Ty[] = [];
    for (const [key, sub] of Object.entries(properties)) {
      const ty = this.#render(sub, this.#at(state, `properties/${escapePointer(key)}`, true));
      const optional = required.has(key) ? "" : "?";
      members.push(`${schemaJsDoc(sub, inner)}${inner}${propertyKey(key)}${optional}: ${ty.text};`);
      memberTypes.push(ty);
      if (optional) memberTypes.push(atom("undefined"));
    }
    for (const key of required) {
      if (Object.hasOwn(properties, key)) continue;
      members.push(`${inner}${propertyKey(key)}: unknown;`);
      memberTypes.push(UNKNOWN);
    }
    const extra: Ty[] = [];
    const additional = schema.additionalProperties;
    if (additional !== undefined && additional !== false) {
      extra.push(this.#render(additional, this.#at(state, "additionalProperties", true)));
    }
    if (isJsonObject(schema.patternProperties)) {
      for (const [pattern, sub] of Object.entries(schema.patternProperties)) {
        const segment = `patternProperties/${escapePointer(pattern)}`;
        extra.push(this.#render(sub, this.#at(state, segment, true)));
      }
    }
    // An index signature must admit every declared member's type, or TypeScript rejects it.
    // Repeating the members' types there would double the text per nesting level, so a long
    // or multi-line union is `unknown` instead.
    let index: Ty | undefined;
    if (extra.length > 0) {
      const admitted = [...extra, ...memberTypes];
      const short = admitted.every((t) =>
        t.text.length <= MAX_INDEX_CHARS && !t.text.includes("\n")
      );
      index = short ? union(admitted) : UNKNOWN;
      if (index.text.length > MAX_INDEX_CHARS) index = UNKNOWN;
    }
    if (!index && additional !== false && members.length === 0) index = UNKNOWN;
    if (index) members.push(`${inner}[key: string]: ${index.text};`);
    if (members.length === 0) return atom("Record<string, never>");
    return atom(`{\n${members.join("\n")}\n${state.indent}}`);
  }

  #array(schema: Schema, state: State): Ty {
    const isTuple2020 = Array.isArray(schema.prefixItems);
    const prefix = isTuple2020 ? schema.prefixItems : schema.items;
    if (Array.isArray(prefix)) {
      const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
      const elements = prefix.map((sub, i) => {
        const ty = this.#render(
          sub,
          this.#at(state, `${isTuple2020 ? "prefixItems" : "items"}/${i}`, true),
        );
        return i < minItems ? ty.text : `${paren(ty)}?`;
      });
      const restSchema = isTuple2020 ? schema.items : schema.additionalItems;
      if (restSchema !== false) {
        const segment = isTuple2020 ? "items" : "additionalItems";
        const rest = restSchema === undefined
          ? UNKNOWN
          : this.#render(restSchema, this.#at(state, segment, true));
        elements.push(`...${paren(rest)}[]`);
      }
      return atom(`[${elements.join(", ")}]`);
    }
    const items = schema.items === undefined
      ? UNKNOWN
      : this.#render(schema.items, this.#at(state, "items", true));
    return atom(`${paren(items)}[]`);
  }
}

/**
 * Translates a JSON Schema into TypeScript declarations: `export type <name> = …`, followed
 * by one named type per `#/$defs/X` or `#/definitions/X` it references (named `<name>X`,
 * so recursive schemas work). Local `$ref`s into other places are inlined.
 *
 * Objects list their properties (optional unless `required`); `additionalProperties: false`
 * closes an object, a schema there (or in `patternProperties`) adds an index signature,
 * and an object without any declared member gets `[key: string]: unknown`. `description`
 * (else `title`), `default`, `examples` and `deprecated` become JSDoc. Keywords that only
 * constrain values (`minimum`, `pattern`, `not`, `if`, …) are ignored.
 *
 * Never throws for a bad schema: whatever cannot be translated (remote `$ref`s, unknown
 * `type`s, a type alias that would refer to itself, non-JSON `const`s) becomes `unknown`
 * and is reported through `onWarning`. The output only depends on the input.
 *
 * @throws {TypeError} when `name` is not a valid identifier.
 * @example
 * ```ts
 * import { schemaToTs } from "./schema_to_ts.ts";
 * const { declarations } = schemaToTs(
 *   { type: "object", properties: { a: { type: "number" } }, required: ["a"] },
 *   { name: "AddParams" },
 * );
 * // export type AddParams = {
 * //   a: number;
 * // };
 * ```
 */
export function schemaToTs(schema: unknown, options: SchemaToTsOptions): SchemaToTsResult {
  if (!isTsIdentifier(options.name)) {
    throw new TypeError(`Cannot generate types: "${options.name}" is not an identifier`);
  }
  return { declarations: new Generator(schema, options).generate(), typeName: options.name };
}
