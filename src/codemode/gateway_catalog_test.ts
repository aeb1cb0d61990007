import assert from "node:assert/strict";
import { catalogFromTools, filterCatalog, splitByServerNames } from "./gateway_catalog.ts";

Deno.test("splitByServerNames() prefers the longest server name that prefixes the tool", () => {
  const split = splitByServerNames(["a", "a__b", "calc"]);
  assert.deepEqual(split("a__b__c"), { server: "a__b", name: "c" });
  assert.deepEqual(split("a__c"), { server: "a", name: "c" });
  assert.deepEqual(split("calc__add__numbers"), { server: "calc", name: "add__numbers" });
  assert.equal(split("other__x"), undefined);
  assert.equal(split("calc"), undefined);
});

Deno.test("catalogFromTools() keeps schemas and descriptions and drops unclaimed tools", () => {
  const inputSchema = { type: "object" as const, properties: { a: { type: "number" } } };
  const outputSchema = { type: "object" as const, properties: { sum: { type: "number" } } };
  const catalog = catalogFromTools([
    { name: "calc__add", description: "Adds.", inputSchema, outputSchema },
    { name: "stray", inputSchema: { type: "object" } },
  ], splitByServerNames(["calc"]));
  assert.deepEqual(catalog, [
    { server: "calc", name: "add", description: "Adds.", inputSchema, outputSchema },
  ]);
});

Deno.test("filterCatalog() selects whole servers or single tools, and everything without filters", () => {
  const tool = (server: string, name: string) => ({ server, name, inputSchema: {} });
  const tools = [tool("calc", "add"), tool("calc", "sub"), tool("web", "echo")];
  const ids = (filters: Parameters<typeof filterCatalog>[1]) =>
    filterCatalog(tools, filters).map((t) => `${t.server}__${t.name}`);
  assert.deepEqual(ids([]), ["calc__add", "calc__sub", "web__echo"]);
  assert.deepEqual(ids([{ server: "calc" }]), ["calc__add", "calc__sub"]);
  assert.deepEqual(ids([{ server: "calc", tool: "sub" }, { server: "web" }]), [
    "calc__sub",
    "web__echo",
  ]);
  assert.deepEqual(ids([{ server: "nope" }]), []);
});
