import assert from "node:assert/strict";
import { schemaToTs } from "./schema_to_ts.ts";
import { typeCheck } from "./_type_check.ts";

interface Case {
  title: string;
  name: string;
  schema: unknown;
  expected: string;
  /** Substrings of the warnings expected, in order; none when omitted. */
  warnings?: string[];
}

const CASES: Case[] = [
  {
    title: "quotes property names that are not identifiers and marks optional ones",
    name: "Awkward",
    schema: {
      type: "object",
      properties: {
        "x-y": { type: "string" },
        "with space": { type: "boolean" },
        $ok: { type: "null" },
        été: { type: "number" },
        'a"b': { type: "integer" },
      },
      required: ["x-y", "missing"],
    },
    expected: `export type Awkward = {
  "x-y": string;
  "with space"?: boolean;
  $ok?: null;
  été?: number;
  "a\\"b"?: number;
  missing: unknown;
};
`,
  },
  {
    title: "turns enum and const into literal unions",
    name: "Enums",
    schema: {
      type: "object",
      properties: {
        mode: { type: "string", enum: ["fast", "slow"] },
        level: { enum: [1, 2.5, -3, null, true] },
        kind: { const: "fixed" },
        shape: { const: { a: [1, "b"] } },
      },
    },
    expected: `export type Enums = {
  mode?: "fast" | "slow";
  level?: 1 | 2.5 | -3 | null | true;
  kind?: "fixed";
  shape?: { a: [1, "b"] };
};
`,
  },
  {
    title: "turns type arrays and nullable into unions",
    name: "TypeArrays",
    schema: {
      type: "object",
      properties: {
        a: { type: ["string", "null"] },
        b: { type: "number", nullable: true },
        c: { type: ["integer", "array"], items: { type: "string" } },
      },
    },
    expected: `export type TypeArrays = {
  a?: string | null;
  b?: number | null;
  c?: number | string[];
};
`,
  },
  {
    title: "nests objects, arrays and tuples",
    name: "Nested",
    schema: {
      type: "object",
      properties: {
        user: {
          type: "object",
          properties: {
            name: { type: "string" },
            tags: { type: "array", items: { anyOf: [{ type: "string" }, { type: "number" }] } },
          },
          required: ["name"],
        },
        pair: {
          type: "array",
          prefixItems: [{ type: "string" }, { type: "number" }],
          items: false,
          minItems: 2,
        },
        legacy: {
          type: "array",
          items: [{ type: "string" }, { type: "boolean" }],
          additionalItems: { type: "number" },
          minItems: 1,
        },
      },
    },
    expected: `export type Nested = {
  user?: {
    name: string;
    tags?: (string | number)[];
  };
  pair?: [string, number];
  legacy?: [string, boolean?, ...number[]];
};
`,
  },
  {
    title:
      "emits one named type per $ref target ($defs, definitions or any pointer), recursion included",
    name: "Refs",
    schema: {
      type: "object",
      properties: {
        root: { $ref: "#/$defs/Tree" },
        legacy: { $ref: "#/definitions/leaf-node" },
        self: { $ref: "#" },
        inline: { $ref: "#/$defs/Tree/properties/label" },
      },
      $defs: {
        Tree: {
          type: "object",
          properties: {
            label: { type: "string" },
            children: { type: "array", items: { $ref: "#/$defs/Tree" } },
          },
          required: ["label"],
        },
        Unused: { type: "string" },
      },
      definitions: {
        "leaf-node": {
          type: "object",
          properties: { value: { type: "number" } },
          additionalProperties: false,
        },
      },
    },
    expected: `export type Refs = {
  root?: RefsTree;
  legacy?: RefsLeafNode;
  self?: Refs;
  inline?: RefsLabel;
};

export type RefsTree = {
  label: string;
  children?: RefsTree[];
};

export type RefsLeafNode = {
  value?: number;
};

export type RefsLabel = string;
`,
  },
  {
    title: "adds index signatures only for additionalProperties schemas and empty objects",
    name: "Additional",
    schema: {
      type: "object",
      properties: {
        closed: {
          type: "object",
          properties: { a: { type: "string" } },
          additionalProperties: false,
        },
        map: { type: "object", additionalProperties: { type: "number" } },
        mixed: {
          type: "object",
          properties: { id: { type: "string" }, n: { type: "number" } },
          required: ["id"],
          additionalProperties: { type: "boolean" },
        },
        open: { type: "object", properties: { a: { type: "string" } } },
        anything: { type: "object" },
        nothing: { type: "object", additionalProperties: false },
        pattern: { type: "object", patternProperties: { "^x-": { type: "string" } } },
      },
      required: ["closed"],
      additionalProperties: false,
    },
    expected: `export type Additional = {
  closed: {
    a?: string;
  };
  map?: {
    [key: string]: number;
  };
  mixed?: {
    id: string;
    n?: number;
    [key: string]: boolean | string | number | undefined;
  };
  open?: {
    a?: string;
  };
  anything?: {
    [key: string]: unknown;
  };
  nothing?: Record<string, never>;
  pattern?: {
    [key: string]: string;
  };
};
`,
  },
  {
    title: "turns anyOf and oneOf into unions and allOf into intersections",
    name: "Combinators",
    schema: {
      type: "object",
      properties: {
        either: {
          oneOf: [
            { type: "object", properties: { kind: { const: "a" } }, required: ["kind"] },
            {
              type: "object",
              properties: { kind: { const: "b" }, n: { type: "number" } },
              required: ["kind", "n"],
            },
          ],
        },
        both: {
          allOf: [
            { type: "object", properties: { a: { type: "string" } } },
            { type: "object", properties: { b: { type: "string" } } },
          ],
        },
        mixed: {
          allOf: [
            { anyOf: [{ type: "string" }, { type: "number" }] },
            { anyOf: [{ type: "number" }, { type: "boolean" }] },
          ],
        },
        any: { anyOf: [{ type: "string" }, {}] },
      },
    },
    expected: `export type Combinators = {
  either?: {
    kind: "a";
  } | {
    kind: "b";
    n: number;
  };
  both?: {
    a?: string;
  } & {
    b?: string;
  };
  mixed?: (string | number) & (number | boolean);
  any?: unknown;
};
`,
  },
  {
    title: "writes JSDoc from description, title, default, examples and deprecated",
    name: "Docs",
    schema: {
      description: "Root doc.",
      type: "object",
      properties: {
        q: {
          type: "string",
          description: "Search query.\nSupports */ and more.",
          default: "x",
          examples: ["cats", "dogs"],
        },
        old: { type: "string", deprecated: true, title: "Old field" },
      },
    },
    expected: `/** Root doc. */
export type Docs = {
  /**
   * Search query.
   * Supports *\\/ and more.
   * @default "x"
   * @example "cats"
   * @example "dogs"
   */
  q?: string;
  /**
   * Old field
   * @deprecated
   */
  old?: string;
};
`,
  },
  {
    title: "reads boolean schemas as unknown and never",
    name: "Booleans",
    schema: { type: "object", properties: { yes: true, no: false } },
    expected: `export type Booleans = {
  yes?: unknown;
  no?: never;
};
`,
  },
  {
    title: "degrades untranslatable parts to unknown with a warning each",
    name: "Untranslatable",
    schema: {
      type: "object",
      properties: {
        remote: { $ref: "https://example.com/schema.json" },
        weird: { type: "date" },
        missing: { $ref: "#/$defs/Nope" },
        loop: { $ref: "#/$defs/Loop" },
        bad: 42,
      },
      $defs: { Loop: { anyOf: [{ type: "string" }, { $ref: "#/$defs/Loop" }] } },
    },
    expected: `export type Untranslatable = {
  remote?: unknown;
  weird?: unknown;
  missing?: unknown;
  loop?: UntranslatableLoop;
  bad?: unknown;
};

export type UntranslatableLoop = unknown;
`,
    warnings: [
      '"/properties/remote/$ref"',
      '"/properties/weird"',
      '"/properties/missing/$ref"',
      '"/properties/bad"',
      '"/$defs/Loop/anyOf/1/$ref"',
    ],
  },
  {
    title: "degrades type aliases that would refer to themselves",
    name: "SelfAlias",
    schema: {
      $ref: "#/$defs/A",
      $defs: {
        A: { $ref: "#/$defs/B" },
        B: { allOf: [{ $ref: "#/$defs/A" }, { type: "object" }] },
      },
    },
    expected: `export type SelfAlias = SelfAliasA;

export type SelfAliasA = unknown;
`,
    warnings: ['"/$defs/A/$ref"'],
  },
  {
    title: "degrades $ref cycles outside $defs that would make aliases refer to themselves",
    name: "InlineLoop",
    schema: {
      type: "object",
      properties: { a: { $ref: "#/properties/b" }, b: { $ref: "#/properties/a" } },
    },
    expected: `export type InlineLoop = {
  a?: InlineLoopB;
  b?: InlineLoopA;
};

export type InlineLoopB = unknown;

export type InlineLoopA = unknown;
`,
    warnings: ['"/properties/b/$ref"', '"/properties/a/$ref"'],
  },
];

for (const c of CASES) {
  Deno.test(`schemaToTs() ${c.title}`, () => {
    const warnings: string[] = [];
    const result = schemaToTs(c.schema, { name: c.name, onWarning: (w) => warnings.push(w) });
    assert.equal(result.typeName, c.name);
    assert.equal(result.declarations, c.expected);
    const expected = c.warnings ?? [];
    assert.equal(warnings.length, expected.length, warnings.join("\n"));
    expected.forEach((fragment, i) => assert.ok(warnings[i].includes(fragment), warnings[i]));
  });
}

Deno.test("schemaToTs() output is deterministic", () => {
  for (const c of CASES) {
    assert.equal(
      schemaToTs(structuredClone(c.schema), { name: c.name }).declarations,
      schemaToTs(c.schema, { name: c.name }).declarations,
    );
  }
});

Deno.test("schemaToTs() never throws on non-schema input", () => {
  for (
    const input of [null, 7, "x", [], { type: 3 }, { properties: [] }, { enum: [{}, () => 1] }]
  ) {
    const warnings: string[] = [];
    const { declarations } = schemaToTs(input, { name: "X", onWarning: (w) => warnings.push(w) });
    assert.match(declarations, /^export type X = /);
  }
});

Deno.test("schemaToTs() picks def names that avoid names already taken", () => {
  const taken = new Set(["RefsTree"]);
  const schema = { $ref: "#/$defs/Tree", $defs: { Tree: { type: "string" } } };
  const { declarations } = schemaToTs(schema, { name: "Refs", takenNames: taken });
  assert.match(declarations, /export type RefsTree_2 = string;/);
  assert.ok(taken.has("Refs") && taken.has("RefsTree_2"));
});

Deno.test("schemaToTs() rejects a root name that is not an identifier", () => {
  assert.throws(() => schemaToTs({}, { name: "my type" }), TypeError);
});

Deno.test("schemaToTs() output type-checks and constrains values", async () => {
  const declarations = CASES.map((c) => schemaToTs(c.schema, { name: c.name }).declarations);
  const consumer = `import type { Additional, Combinators, Enums, Nested, Refs } from "./types.ts";
export const tree: Refs = { root: { label: "a", children: [{ label: "b" }] }, self: {} };
export const pair: Nested = { pair: ["a", 1], legacy: ["x", true, 1, 2] };
export const extra: Additional = { closed: {}, mixed: { id: "i", n: 1, flag: true } };
export const either: Combinators = { either: { kind: "b", n: 1 } };
// @ts-expect-error: "medium" is not in the enum
export const badEnum: Enums = { mode: "medium" };
// @ts-expect-error: children items need a label
export const badTree: Refs = { root: { label: "a", children: [{}] } };
// @ts-expect-error: the map only holds numbers
export const badMap: Additional = { closed: {}, map: { a: "1" } };
// @ts-expect-error: kind "a" has no n and kind "c" does not exist
export const badEither: Combinators = { either: { kind: "c" } };
`;
  const result = await typeCheck({ "types.ts": declarations.join("\n"), "consumer.ts": consumer });
  assert.ok(result.ok, result.diagnostics);
});

function exponential(levels: number, container: string): Record<string, unknown> {
  const defs: Record<string, unknown> = { [`n${levels}`]: { type: "string" } };
  const ref = (i: number) => ({ $ref: `#/${container}/n${i}` });
  for (let i = 0; i < levels; i++) defs[`n${i}`] = { anyOf: [ref(i + 1), ref(i + 1)] };
  return { type: "object", properties: { root: ref(0) }, [container]: defs };
}

Deno.test("schemaToTs() writes each $ref target once, so repeated references cannot explode", () => {
  for (const container of ["$defs", "x"]) {
    const { declarations } = schemaToTs(exponential(40, container), { name: "Expo" });
    assert.equal(declarations.match(/^export type /gm)?.length, 42);
    assert.match(declarations, /^export type ExpoN0 = ExpoN1;$/m);
    assert.ok(declarations.length < 4_000, `${declarations.length} characters`);
  }
});

Deno.test("schemaToTs() survives 20 000-deep schemas, degrading past its depth limit", () => {
  let properties: unknown = { type: "string" };
  let anyOf: unknown = { type: "string" };
  let value: unknown = 1;
  const chain: Record<string, unknown> = { d20000: { type: "string" } };
  for (let i = 0; i < 20_000; i++) {
    properties = { type: "object", properties: { a: properties } };
    anyOf = { anyOf: [anyOf, { type: "number" }] };
    value = [value];
    chain[`d${i}`] = { $ref: `#/$defs/d${i + 1}` };
  }
  for (
    const schema of [
      properties,
      { $defs: { a: anyOf }, $ref: "#/$defs/a" },
      { const: value, default: value },
      { $defs: chain, $ref: "#/$defs/d0" },
    ]
  ) {
    const warnings: string[] = [];
    const { declarations } = schemaToTs(schema, {
      name: "Deep",
      onWarning: (w) => warnings.push(w),
    });
    assert.match(declarations, /^export type Deep = /m);
    assert.ok(warnings.length > 0 && warnings.length <= 3, warnings.join("\n"));
    assert.ok(declarations.length < 300_000, `${declarations.length} characters`);
  }
});

Deno.test("schemaToTs() caps its output and makes the rest unknown, with one warning", () => {
  const properties = Object.fromEntries(
    Array.from(
      { length: 2_000 },
      (_, i) => [`p${i}`, { type: "string", description: "x".repeat(100) }],
    ),
  );
  const warnings: string[] = [];
  const big = { type: "object", properties, $defs: { A: { type: "number" } } };
  const result = schemaToTs(big, {
    name: "Big",
    maxChars: 10_000,
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(result.declarations, "export type Big = unknown;\n");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /too large/);

  const budget = { remainingChars: 60 };
  const first = schemaToTs({ type: "string" }, { name: "First", budget });
  const second = schemaToTs({ type: "object", properties: { a: { type: "string" } } }, {
    name: "Second",
    budget,
  });
  assert.equal(first.declarations, "export type First = string;\n");
  assert.equal(second.declarations, "export type Second = unknown;\n");
});

Deno.test("schemaToTs() keeps intersections of unions narrow enough for the compiler", () => {
  const variants = (tag: string, n: number) => ({
    anyOf: Array.from({ length: n }, (_, i) => ({ const: `${tag}${i}` })),
  });
  const warnings: string[] = [];
  const wide = schemaToTs({ allOf: [variants("a", 50), variants("b", 50), variants("c", 50)] }, {
    name: "Wide",
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(wide.declarations, "export type Wide = unknown;\n");
  const viaRefs = schemaToTs({
    $defs: { A: variants("a", 50), B: variants("b", 50), C: variants("c", 50) },
    allOf: [{ $ref: "#/$defs/A" }, { $ref: "#/$defs/B" }, { $ref: "#/$defs/C" }],
  }, { name: "ViaRefs", onWarning: (w) => warnings.push(w) });
  assert.match(viaRefs.declarations, /^export type ViaRefs = unknown;$/m);
  assert.match(viaRefs.declarations, /^export type ViaRefsA = "a0" \| "a1"/m);
  assert.equal(warnings.filter((w) => w.includes("too many alternatives")).length, 2);

  const narrow = schemaToTs({ allOf: [variants("a", 3), variants("b", 3)] }, { name: "Narrow" });
  assert.match(narrow.declarations, /^export type Narrow = \("a0" \| "a1" \| "a2"\) & \("b0"/m);
  const bigEnum = schemaToTs({ enum: Array.from({ length: 5_000 }, (_, i) => `v${i}`) }, {
    name: "BigEnum",
  });
  assert.equal(bigEnum.declarations, "export type BigEnum = string;\n");
});

Deno.test("schemaToTs() writes no control character and quotes names TypeScript would reject", async () => {
  const escapes = "\x1b[2J\x9b1m\u202e\u2028";
  const schema = {
    type: "object",
    description: `Root ${escapes}*/ export const injected = 1; /*`,
    properties: {
      [`k${escapes}`]: { const: `v${escapes}`, default: `d${escapes}`, examples: [escapes] },
      "\u1C8A": { type: "string", title: `t${escapes}` },
      "a\u{16D40}": { $ref: "#/$defs/\u1C8A" },
      plain: { type: "string" },
    },
    $defs: { "\u1C8A": { type: "number" } },
  };
  const { declarations } = schemaToTs(schema, { name: "Hostile" });
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(declarations, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u202e]/);
  assert.match(declarations, /^ {2}"\u1C8A"\?: string;$/m);
  assert.match(declarations, /^ {2}"a\u{16D40}"\?: Hostile_;$/mu);
  assert.match(declarations, /^ {2}plain\?: string;$/m);
  assert.match(declarations, /"v\\u001b\[2J\\u009b1m\\u202e\\u2028"/);
  const consumer = `import type { Hostile } from "./types.ts";
export const value: Hostile = { "k\\x1b[2J\\x9b1m\\u202e\\u2028": "v\\x1b[2J\\x9b1m\\u202e\\u2028" };
// @ts-expect-error: the const value is exact
export const wrong: Hostile = { "k\\x1b[2J\\x9b1m\\u202e\\u2028": "v" };
`;
  const result = await typeCheck({ "types.ts": declarations, "consumer.ts": consumer });
  assert.ok(result.ok, result.diagnostics);
});
