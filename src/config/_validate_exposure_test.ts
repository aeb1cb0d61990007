import assert from "node:assert/strict";
import { configError, envOf } from "./_testing.ts";
import { validateConfig } from "./validate_config.ts";

const FILE = "/etc/toolscript/config.json";

function validate(servers: Record<string, unknown>, env: Record<string, string> = {}) {
  return validateConfig({ mcpServers: servers }, { file: FILE, source: "flag", env: envOf(env) });
}

const INVALID: { name: string; servers: Record<string, unknown>; path: string }[] = [
  {
    name: "a server name with __",
    servers: { "gh__x": { command: "x" } },
    path: "mcpServers.gh__x",
  },
  {
    name: "a disabled server whose name has __",
    servers: { "a__b": { command: "x", enabled: false } },
    path: "mcpServers.a__b",
  },
  {
    name: "a prefix with __",
    servers: { s: { command: "x", prefix: "a__b" } },
    path: "mcpServers.s.prefix",
  },
  {
    name: "a prefix that is __",
    servers: { s: { command: "x", prefix: "__" } },
    path: "mcpServers.s.prefix",
  },
  {
    name: "a prefix that is not a string",
    servers: { s: { command: "x", prefix: 1 } },
    path: "mcpServers.s.prefix",
  },
  {
    name: "a prefix with a space",
    servers: { s: { command: "x", prefix: "a b" } },
    path: "mcpServers.s.prefix",
  },
  {
    name: "tools that is not an object",
    servers: { s: { command: "x", tools: ["a"] } },
    path: "mcpServers.s.tools",
  },
  {
    name: "an unknown key in tools",
    servers: { s: { command: "x", tools: { alow: ["a"] } } },
    path: "mcpServers.s.tools.alow",
  },
  {
    name: "an allow list that is not an array",
    servers: { s: { command: "x", tools: { allow: "a*" } } },
    path: "mcpServers.s.tools.allow",
  },
  {
    name: "a deny list holding a number",
    servers: { s: { url: "https://a.example", tools: { deny: ["a", 2] } } },
    path: "mcpServers.s.tools.deny[1]",
  },
  {
    name: "an empty glob",
    servers: { s: { command: "x", tools: { allow: [""] } } },
    path: "mcpServers.s.tools.allow[0]",
  },
];

for (const { name, servers, path } of INVALID) {
  Deno.test(`validateConfig() rejects ${name} at its JSON path`, () => {
    const error = configError(() => validate(servers));
    assert.equal(error.path, path);
    assert.equal(error.file, FILE);
    assert.equal(error.code, "config");
  });
}

Deno.test("validateConfig() defaults the prefix to the server name and keeps an empty prefix", () => {
  const config = validate({
    plain: { command: "x" },
    bare: { command: "x", prefix: "" },
    custom: { url: "https://a.example", prefix: "${P}" },
  }, { P: "mine" });
  assert.deepEqual(config.servers.map((s) => [s.name, s.prefix]), [
    ["plain", "plain"],
    ["bare", ""],
    ["custom", "mine"],
  ]);
});

Deno.test("validateConfig() reads tools.allow and tools.deny as globs", () => {
  const config = validate({
    a: { command: "x", tools: { allow: ["read_*", "list"], deny: ["*_secret"] } },
    b: { command: "x", tools: { deny: ["wipe"] } },
    c: { command: "x" },
  });
  assert.deepEqual(config.servers.map((s) => s.tools), [
    { allow: ["read_*", "list"], deny: ["*_secret"] },
    { deny: ["wipe"] },
    undefined,
  ]);
});

Deno.test("validateConfig() allows two servers with the same prefix", () => {
  const config = validate({ a: { command: "x", prefix: "p" }, b: { command: "y", prefix: "p" } });
  assert.deepEqual(config.servers.map((s) => s.prefix), ["p", "p"]);
});
