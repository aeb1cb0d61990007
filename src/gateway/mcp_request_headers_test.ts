import assert from "node:assert/strict";
import {
  encodeHeaderValue,
  mcpRequestHeaders,
  type ParamHeader,
  readParamHeaders,
} from "./mcp_request_headers.ts";

function schemaWith(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: "object", properties };
}

Deno.test("readParamHeaders() finds x-mcp-header on top-level and nested properties", () => {
  const scan = readParamHeaders(schemaWith({
    region: { type: "string", "x-mcp-header": "Region" },
    query: { type: "string" },
    options: {
      type: "object",
      properties: { dryRun: { type: ["boolean", "null"], "x-mcp-header": "Dry-Run" } },
    },
  }));
  assert.deepEqual(scan, {
    headers: [
      { name: "Region", path: ["region"] },
      { name: "Dry-Run", path: ["options", "dryRun"] },
    ],
  });
});

Deno.test("readParamHeaders() rejects every annotation the 2026-07-28 rules forbid", () => {
  const invalid: Record<string, Record<string, unknown>> = {
    empty: { value: { type: "string", "x-mcp-header": "" } },
    "not a string": { value: { type: "string", "x-mcp-header": 7 } },
    object: { data: { type: "object", "x-mcp-header": "Data" } },
    array: { items: { type: "array", items: { type: "string" }, "x-mcp-header": "Items" } },
    null: { nil: { type: "null", "x-mcp-header": "Nil" } },
    number: { score: { type: "number", "x-mcp-header": "Score" } },
    "no type": { value: { "x-mcp-header": "Value" } },
    "same-case duplicate": {
      a: { type: "string", "x-mcp-header": "Region" },
      b: { type: "string", "x-mcp-header": "Region" },
    },
    "other-case duplicate": {
      a: { type: "string", "x-mcp-header": "MyField" },
      b: { type: "string", "x-mcp-header": "myfield" },
    },
    space: { value: { type: "string", "x-mcp-header": "My Region" } },
    colon: { value: { type: "string", "x-mcp-header": "Region:Primary" } },
    "non-ASCII": { value: { type: "string", "x-mcp-header": "Région" } },
    "control character": { value: { type: "string", "x-mcp-header": "Region\t1" } },
    "nested problem": {
      outer: { type: "object", properties: { x: { type: "object", "x-mcp-header": "X" } } },
    },
  };
  for (const [what, properties] of Object.entries(invalid)) {
    assert.ok("invalid" in readParamHeaders(schemaWith(properties)), what);
  }
});

Deno.test("readParamHeaders() accepts schemas without annotations, or no schema at all", () => {
  assert.deepEqual(readParamHeaders(schemaWith({ q: { type: "string" } })), { headers: [] });
  assert.deepEqual(readParamHeaders(undefined), { headers: [] });
});

Deno.test("encodeHeaderValue() sends plain ASCII as is and Base64 for anything unsafe", () => {
  const cases: [string, string][] = [
    ["us-west1", "us-west1"],
    ["us west 1", "us west 1"],
    ["", ""],
    ["Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="],
    [" padded ", "=?base64?IHBhZGRlZCA=?="],
    ["line1\nline2", "=?base64?bGluZTEKbGluZTI=?="],
    ["\tindented", "=?base64?CWluZGVudGVk?="],
    ["=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="],
  ];
  for (const [value, header] of cases) assert.equal(encodeHeaderValue(value), header, value);
});

Deno.test("mcpRequestHeaders() names the method on requests and notifications", () => {
  const none = () => undefined;
  assert.deepEqual(
    mcpRequestHeaders({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }, none),
    { "Mcp-Method": "tools/list" },
  );
  assert.deepEqual(
    mcpRequestHeaders({ jsonrpc: "2.0", method: "notifications/cancelled" }, none),
    { "Mcp-Method": "notifications/cancelled" },
  );
  assert.deepEqual(
    mcpRequestHeaders(
      { jsonrpc: "2.0", id: 2, method: "prompts/get", params: { name: "p" } },
      none,
    ),
    { "Mcp-Method": "prompts/get", "Mcp-Name": "p" },
  );
  assert.deepEqual(
    mcpRequestHeaders(
      { jsonrpc: "2.0", id: 3, method: "resources/read", params: { uri: "file:///a%20b.txt" } },
      none,
    ),
    { "Mcp-Method": "resources/read", "Mcp-Name": "file:///a%20b.txt" },
  );
  assert.deepEqual(mcpRequestHeaders({ jsonrpc: "2.0", id: 4, result: {} }, none), {});
});

Deno.test("mcpRequestHeaders() mirrors marked tool arguments and omits null or absent ones", () => {
  const declared: ParamHeader[] = [
    { name: "Region", path: ["region"] },
    { name: "Priority", path: ["priority"] },
    { name: "Verbose", path: ["verbose"] },
    { name: "Debug", path: ["debug"] },
    { name: "Greeting", path: ["greeting"] },
    { name: "Mode", path: ["options", "mode"] },
    { name: "Missing", path: ["missing"] },
  ];
  const headers = mcpRequestHeaders({
    jsonrpc: "2.0",
    id: 5,
    method: "tools/call",
    params: {
      name: "run",
      arguments: {
        region: "us-west1",
        priority: 42,
        verbose: null,
        debug: false,
        greeting: "Hello, 世界",
        options: { mode: "fast" },
        query: "not mirrored",
      },
    },
  }, (tool) => tool === "run" ? declared : undefined);
  assert.deepEqual(headers, {
    "Mcp-Method": "tools/call",
    "Mcp-Name": "run",
    "Mcp-Param-Region": "us-west1",
    "Mcp-Param-Priority": "42",
    "Mcp-Param-Debug": "false",
    "Mcp-Param-Greeting": "=?base64?SGVsbG8sIOS4lueVjA==?=",
    "Mcp-Param-Mode": "fast",
  });
});
