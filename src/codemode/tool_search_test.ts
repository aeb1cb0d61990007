import assert from "node:assert/strict";
import type { CatalogTool } from "./tool_catalog.ts";
import { createToolSearch } from "./tool_search.ts";

function tool(server: string, name: string, description?: string): CatalogTool {
  return { server, name, description, inputSchema: { type: "object" } };
}

const TOOLS: CatalogTool[] = [
  tool("calc", "add", "Add two numbers.\nReturns the sum as structured content."),
  tool("calc", "subtract", "Subtract one number from another."),
  tool("calc", "multiply_numbers", "Multiply numbers together."),
  tool("demo", "echo", "Return the given text unchanged."),
  tool("github", "createIssue", "Open a new issue in a repository."),
  tool("github", "list-pull-requests", "List pull requests of a repository."),
  tool("files", "read_file", "Read a file from disk."),
  tool("files", "stat"),
];

const index = createToolSearch(TOOLS);

function ids(query: string, limit?: number): string[] {
  return index.search(query, { limit }).map((hit) => hit.id);
}

Deno.test("search() ranks the tool whose name and description match first", () => {
  assert.equal(ids("add numbers")[0], "calc__add");
});

Deno.test("search() finds a tool from a prefix of its name", () => {
  assert.equal(ids("ech")[0], "demo__echo");
});

Deno.test("search() tolerates typos in longer words", () => {
  assert.equal(ids("multiplly")[0], "calc__multiply_numbers");
});

Deno.test("search() matches words inside camelCase, snake_case and kebab-case names", () => {
  assert.equal(ids("issue")[0], "github__createIssue");
  assert.equal(ids("pull requests")[0], "github__list-pull-requests");
  assert.equal(ids("read file")[0], "files__read_file");
});

Deno.test("search() matches server names", () => {
  assert.deepEqual(ids("github").sort(), ["github__createIssue", "github__list-pull-requests"]);
});

Deno.test("search() returns the id, names, score and first description line", () => {
  const [hit] = index.search("add", { limit: 1 });
  assert.deepEqual({ ...hit, score: undefined }, {
    id: "calc__add",
    server: "calc",
    tool: "add",
    score: undefined,
    summary: "Add two numbers.",
  });
  assert.ok(hit.score > 0);
  assert.equal(index.search("stat")[0].summary, "");
});

Deno.test("search() honours the limit and orders by descending score", () => {
  const hits = index.search("numbers", { limit: 2 });
  assert.equal(hits.length, 2);
  assert.ok(hits[0].score >= hits[1].score);
  assert.equal(index.search("numbers").length, 3);
  assert.throws(() => index.search("numbers", { limit: -1 }), RangeError);
});

Deno.test("search() ignores stop words and finds nothing for unrelated or empty queries", () => {
  assert.deepEqual(ids("the"), []);
  assert.deepEqual(ids("zebra"), []);
  assert.deepEqual(ids(""), []);
});

Deno.test("createToolSearch() indexes a tool listed twice once", () => {
  const twice = createToolSearch([TOOLS[0], TOOLS[0]]);
  assert.equal(twice.search("add").length, 1);
});
