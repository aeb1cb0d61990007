/**
 * JSON Schema (the draft 2020-12 / draft-07 subset MCP tools use) → TypeScript type
 * declarations, written by hand: synchronous, dependency-free and deterministic.
 */

import { schemaJsDoc } from "./_jsdoc.ts";
import {
  atom,
  intersection,
  isJsonObject,
  literal,
  NEVER,
  paren,
  propertyKey,
  type Ty,
  union,
  UNKNOWN,
} from "./_ts_type.ts";
import { toPascalCase } from "./names.ts";

/** Options for {@link schemaToTs}. */
export interface SchemaToTsOptions {
  /** Name of the root type; must be a valid TypeScript identifier. */
  name: string;
  /** Called once per construct that had to degrade to `unknown`; defaults to ignoring it. */
  onWarning?: (message: string) => void;
  /**
   * Type names already declared next to the output. Names for `$defs` avoid them, and every
   * name this call declares (the root included) is added, so sharing one set across calls
   * keeps a module free of duplicate declarations.
   */
  takenNames?: Set<string>;
}

/** What {@link schemaToTs} produces. */
export interface SchemaToTsResult {
  /** `export type …` declarations: the root type first, then each referenced definition. */
  declarations: string;
  /** Name of the root type (the `name` option). */
  typeName: string;
}

type Schema = Record<string, unknown>;
interface State {
  indent: string;
  path: string;
  owner: string;
  direct: boolean;
  depth: number;
  inlining: ReadonlySet<string>;
}

const MAX_DEPTH = 64;
const PRIMITIVES: Record<string, string> = {
  string: "string",
  number: "number",
  integer: "number",
  boolean: "boolean",
  null: "null",
};
const OBJECT_KEYWORDS = ["properties", "additionalProperties", "patternProperties", "required"];
const ARRAY_KEYWORDS = ["items", "prefixItems", "additionalItems"];

function escapePointer(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

class Generator {
  readonly #root: unknown;
  readonly #name: string;
  readonly #warn: (message: string) => void;
  readonly #taken: Set<string>;
  readonly #named = new Map<string, string>();
  readonly #queue: string[] = [];
  readonly #directCache = new Map<string, Set<string>>();

  constructor(root: unknown, options: SchemaToTsOptions) {
    this.#root = root;
    this.#name = options.name;
    this.#warn = options.onWarning ?? (() => {});
    this.#taken = options.takenNames ?? new Set();
    this.#taken.add(options.name);
    this.#named.set("#", options.name);
  }

  generate(): string {
    const out = [this.#declare("#")];
    for (let pointer = this.#queue.shift(); pointer; pointer = this.#queue.shift()) {
      out.push(this.#declare(pointer));
    }
    return out.join("\n");
  }

  #declare(pointer: string): string {
    const schema = this.#resolve(pointer);
    const state: State = {
      indent: "",
      path: pointer.slice(1),
      owner: pointer,
      direct: true,
      depth: 0,
      inlining: new Set(),
    };
    const ty = this.#render(schema, state);
    return `${schemaJsDoc(schema, "")}export type ${this.#named.get(pointer)} = ${ty.text};\n`;
  }

  #degrade(state: State, problem: string): Ty {
    this.#warn(`${this.#name}: ${problem} at "${state.path || "/"}"; using unknown`);
    return UNKNOWN;
  }

  #resolve(pointer: string): unknown {
    let node: unknown = this.#root;
    if (pointer === "#") return node;
    if (!pointer.startsWith("#/")) return undefined;
    for (const raw of pointer.slice(2).split("/")) {
      let key: string;
      try {
        key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
      } catch {
        return undefined;
      }
      if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  }

  #isNamed(pointer: string): boolean {
    return pointer === "#" || /^#\/(\$defs|definitions)\/[^/]+$/.test(pointer);
  }

  #typeNameFor(pointer: string): string {
    let name = this.#named.get(pointer);
    if (name === undefined) {
      const base = `${this.#name}${toPascalCase(pointer.slice(pointer.lastIndexOf("/") + 1))}`;
      name = base;
      for (let n = 2; this.#taken.has(name); n++) name = `${base}_${n}`;
      this.#taken.add(name);
      this.#named.set(pointer, name);
      this.#queue.push(pointer);
    }
    return name;
  }

  /** Named types a definition mentions outside any object member or array element. */
  #directRefs(pointer: string): Set<string> {
    let refs = this.#directCache.get(pointer);
    if (refs) return refs;
    refs = new Set();
    this.#directCache.set(pointer, refs);
    const walk = (schema: unknown, seen: ReadonlySet<string>): void => {
      if (!isJsonObject(schema)) return;
      const ref = schema.$ref;
      if (typeof ref === "string" && this.#isNamed(ref)) refs.add(ref);
      else if (typeof ref === "string" && !seen.has(ref)) {
        walk(this.#resolve(ref), new Set([...seen, ref]));
      }
      for (const key of ["anyOf", "oneOf", "allOf"]) {
        const list = schema[key];
        if (Array.isArray(list)) { for (const sub of list) walk(sub, seen); }
      }
    };
    walk(this.#resolve(pointer), new Set());
    return refs;
  }

  #reaches(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (next === to) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...this.#directRefs(next));
    }
    return false;
  }

  #ref(ref: unknown, state: State): Ty {
    const at = { ...state, path: `${state.path}/$ref` };
    if (typeof ref !== "string" || !ref.startsWith("#")) {
      return this.#degrade(at, `unsupported $ref ${JSON.stringify(ref)}`);
    }
    const target = this.#resolve(ref);
    if (target === undefined) return this.#degrade(at, `unresolvable $ref "${ref}"`);
    if (this.#isNamed(ref)) {
      if (state.direct && this.#reaches(ref, state.owner)) {
        return this.#degrade(at, `$ref "${ref}" makes a type alias refer to itself`);
      }
      return atom(this.#typeNameFor(ref));
    }
    if (state.inlining.has(ref)) return this.#degrade(at, `circular $ref "${ref}"`);
    return this.#render(target, { ...state, inlining: new Set([...state.inlining, ref]) });
  }

  #render(schema: unknown, state: State): Ty {
    if (schema === true) return UNKNOWN;
    if (schema === false) return NEVER;
    if (!isJsonObject(schema)) return this.#degrade(state, "schema is not an object");
    if (state.depth > MAX_DEPTH) return this.#degrade(state, "schema nests too deeply");
    const parts: Ty[] = [];
    const base = this.#renderBase(schema, state);
    if (base) parts.push(base);
    if ("$ref" in schema) parts.push(this.#ref(schema.$ref, state));
    for (const key of ["anyOf", "oneOf"]) {
      const list = schema[key];
      if (!Array.isArray(list) || list.length === 0) continue;
      parts.push(union(list.map((s, i) => this.#render(s, this.#at(state, `${key}/${i}`)))));
    }
    if (Array.isArray(schema.allOf)) {
      parts.push(...schema.allOf.map((s, i) => this.#render(s, this.#at(state, `allOf/${i}`))));
    }
    const ty = intersection(parts);
    return schema.nullable === true ? union([ty, atom("null")]) : ty;
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
      const members = schema.enum.map(literal);
      if (members.every((m) => m)) return union(members as Ty[]);
      return this.#degrade(state, "unsupported enum value");
    }
    const types = typeof schema.type === "string" ? [schema.type] : schema.type;
    if (Array.isArray(types)) return union(types.map((t) => this.#renderType(t, schema, state)));
    if (schema.type !== undefined) return this.#degrade(state, "unsupported type keyword");
    if (OBJECT_KEYWORDS.some((k) => k in schema)) return this.#object(schema, state);
    if (ARRAY_KEYWORDS.some((k) => k in schema)) return this.#array(schema, state);
    return undefined;
  }

  #renderType(type: unknown, schema: Schema, state: State): Ty {
    if (typeof type === "string" && type in PRIMITIVES) return atom(PRIMITIVES[type]);
    if (type === "object") return this.#object(schema, state);
    if (type === "array") return this.#array(schema, state);
    return this.#degrade(state, `unsupported type ${JSON.stringify(type)}`);
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
      memberTypes.push(optional ? union([ty, atom("undefined")]) : ty);
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
    let index: Ty | undefined = extra.length > 0 ? union([...extra, ...memberTypes]) : undefined;
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
  if (!/^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u.test(options.name)) {
    throw new TypeError(`Cannot generate types: "${options.name}" is not an identifier`);
  }
  return { declarations: new Generator(schema, options).generate(), typeName: options.name };
}
