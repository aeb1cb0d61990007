import assert from "node:assert/strict";
import {
  compileToolFilter,
  exposedName,
  ExposedNames,
  parseRewrittenUri,
  rewriteUri,
} from "../../src/gateway/exposed_names.ts";

const tool = (name: string) => ({ name, inputSchema: { type: "object" as const } });

Deno.test('exposed names are <prefix>__<name>, or the upstream\'s own name for prefix ""', () => {
  assert.equal(exposedName("gh", "search"), "gh__search");
  assert.equal(exposedName("", "search"), "search");
  const names = new ExposedNames([
    { server: "github", tools: [tool("search")] },
    { server: "docs", prefix: "d", tools: [tool("search")] },
    { server: "bare", prefix: "", tools: [tool("lookup")] },
  ]);
  assert.deepEqual(names.tools.map((t) => t.name), ["github__search", "d__search", "lookup"]);
  assert.deepEqual(names.tool("d__search"), { server: "docs", name: "search" });
  assert.deepEqual(names.tool("lookup"), { server: "bare", name: "lookup" });
  assert.equal(names.tool("docs__search"), undefined, "the server name is not an alias");
  assert.equal(names.toolName("docs", "search"), "d__search");
  assert.equal(names.toolName("docs", "nope"), undefined);
});

Deno.test("a name is resolved to the server that lists it, even for servers gh and gh__x-like prefixes", () => {
  // Config forbids "__" in names and prefixes; the table never guesses by splitting anyway.
  const names = new ExposedNames([
    { server: "gh", tools: [tool("x__wipe")] },
    { server: "ghx", prefix: "gh_", tools: [tool("_x__wipe")] },
  ]);
  assert.deepEqual(names.tool("gh__x__wipe"), { server: "gh", name: "x__wipe" });
  for (const listed of names.tools) {
    assert.equal(names.tool(listed.name)?.server, listed.name === "gh__x__wipe" ? "gh" : "ghx");
  }
});

Deno.test("when two servers expose the same final name the first keeps it and the collision is reported", () => {
  const names = new ExposedNames([
    { server: "a", prefix: "", tools: [tool("search"), tool("only_a")], prompts: [{ name: "p" }] },
    { server: "b", prefix: "", tools: [tool("search")], prompts: [{ name: "p" }] },
  ]);
  assert.deepEqual(names.tools.map((t) => t.name), ["search", "only_a"]);
  assert.deepEqual(names.tool("search"), { server: "a", name: "search" });
  assert.equal(names.toolName("b", "search"), undefined, "the hidden tool has no exposed name");
  assert.deepEqual(names.prompt("p"), { server: "a", name: "p" });
  assert.deepEqual(names.collisions, [
    { kind: "tool", exposed: "search", kept: "a", other: "b" },
    { kind: "prompt", exposed: "p", kept: "a", other: "b" },
  ]);
});

Deno.test("tool filters: * matches any run, allow selects, deny wins, other characters are literal", () => {
  const pass = compileToolFilter({ allow: ["read_*", "list"], deny: ["*_secret"] });
  assert.equal(pass("read_file"), true);
  assert.equal(pass("read_"), true);
  assert.equal(pass("list"), true);
  assert.equal(pass("listing"), false);
  assert.equal(pass("read_secret"), false);
  assert.equal(pass("write_file"), false);
  assert.equal(compileToolFilter({ deny: ["a.c"] })("abc"), true, ". is not a wildcard");
  assert.equal(compileToolFilter({ allow: [] })("x"), false, "an empty allow list allows nothing");
  assert.equal(compileToolFilter(undefined)("x"), true);

  const names = new ExposedNames([
    {
      server: "fs",
      toolFilter: { allow: ["read_*"], deny: ["read_secret"] },
      tools: [tool("read_file"), tool("read_secret"), tool("delete")],
      extraTools: [tool("authenticate")],
    },
  ]);
  assert.deepEqual(names.tools.map((t) => t.name), ["fs__read_file", "fs__authenticate"]);
  assert.equal(names.tool("fs__delete"), undefined);
  assert.equal(names.tool("fs__read_secret"), undefined);
});

Deno.test("a later server's colliding resource URIs are rewritten reversibly; the first keeps its own", () => {
  const readme = { name: "readme", uri: "demo://readme" };
  const names = new ExposedNames([
    { server: "a", tools: [], resources: [readme] },
    { server: "b", tools: [], resources: [readme, { name: "own", uri: "demo://only-b" }] },
  ]);
  const rewritten = rewriteUri("b", "demo://readme");
  assert.equal(rewritten, "toolscript://b/demo://readme");
  assert.deepEqual(names.resources.map((r) => [r.uri, r.name]), [
    ["demo://readme", "a__readme"],
    [rewritten, "b__readme"],
    ["demo://only-b", "b__own"],
  ]);
  assert.deepEqual(names.resource("demo://readme"), { server: "a", uri: "demo://readme" });
  assert.deepEqual(names.resource(rewritten), { server: "b", uri: "demo://readme" });
  assert.deepEqual(names.resource("demo://only-b"), { server: "b", uri: "demo://only-b" });
  assert.deepEqual(parseRewrittenUri(rewritten), { server: "b", uri: "demo://readme" });
  assert.equal(parseRewrittenUri("demo://readme"), undefined);
  assert.deepEqual(names.collisions, [
    { kind: "resource", exposed: "demo://readme", kept: "a", other: "b", rewritten },
  ]);
});

Deno.test("resource templates that could produce the same URIs are rewritten too, and reads route by the longest literal start", () => {
  const names = new ExposedNames([
    {
      server: "a",
      tools: [],
      templates: [{ name: "file", uriTemplate: "file:///a/{path}" }],
      resources: [{ name: "notes", uri: "notes://1" }],
    },
    {
      server: "b",
      tools: [],
      templates: [
        { name: "file", uriTemplate: "file:///{path}" },
        { name: "other", uriTemplate: "file:///b/{path}" },
        { name: "notes", uriTemplate: "notes://{id}" },
        { name: "mail", uriTemplate: "mail://{id}" },
      ],
    },
  ]);
  assert.deepEqual(names.templates.map((t) => t.uriTemplate), [
    "file:///a/{path}",
    "toolscript://b/file:///{path}",
    "file:///b/{path}",
    "toolscript://b/notes://{id}",
    "mail://{id}",
  ]);
  assert.deepEqual(names.resource("file:///a/x"), { server: "a", uri: "file:///a/x" });
  assert.deepEqual(names.resource("file:///b/x"), { server: "b", uri: "file:///b/x" });
  assert.deepEqual(names.resource("toolscript://b/file:///etc"), {
    server: "b",
    uri: "file:///etc",
  });
  assert.deepEqual(names.resource("notes://1"), { server: "a", uri: "notes://1" });
  assert.deepEqual(names.resource("toolscript://b/notes://2"), { server: "b", uri: "notes://2" });
  assert.deepEqual(names.resource("mail://7"), { server: "b", uri: "mail://7" });
  assert.equal(names.resource("toolscript://nobody/x"), undefined);
  assert.equal(names.resource("http://x"), undefined);
});

Deno.test("a server that listed no tools (down) may claim an unlisted name by its prefix, within its filter", () => {
  const names = new ExposedNames([
    { server: "up", tools: [tool("echo")] },
    { server: "down", tools: [], toolFilter: { deny: ["wipe"] } },
    { server: "bare", prefix: "", tools: [] },
  ]);
  const anyDown = () => true;
  assert.deepEqual(names.unlistedTool("down__echo", anyDown), { server: "down", name: "echo" });
  assert.equal(names.unlistedTool("down__wipe", anyDown), undefined, "the filter still applies");
  assert.equal(names.unlistedTool("down__echo", () => false), undefined);
  assert.equal(names.unlistedTool("up__other", anyDown), undefined, "up listed its tools");
  assert.equal(names.unlistedTool("echo", anyDown), undefined, 'prefix "" claims nothing');
});
