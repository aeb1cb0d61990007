import assert from "node:assert/strict";
import { filterCatalog, parseToolId } from "./gateway_catalog.ts";

Deno.test("parseToolId() splits a code-mode id at its first __", () => {
  assert.deepEqual(parseToolId("calc__add"), { server: "calc", tool: "add" });
  assert.deepEqual(parseToolId("calc__add__numbers"), { server: "calc", tool: "add__numbers" });
  assert.equal(parseToolId("calc"), undefined);
  assert.equal(parseToolId("__x"), undefined);
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
