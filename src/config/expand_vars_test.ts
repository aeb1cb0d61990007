import assert from "node:assert/strict";
import { configError } from "./_testing.ts";
import { expandStrings, expandVars } from "./expand_vars.ts";

const ENV: Record<string, string> = { HOST: "example.com", EMPTY: "", TOKEN: "tok-SENTINEL-1" };
const env = (name: string) => ENV[name];
const where = { file: "/cfg/config.json", path: "mcpServers.api.url", server: "api" };

Deno.test("expandVars() replaces ${VAR} and uses ${VAR:-default} only when unset or empty", () => {
  const cases: [string, string][] = [
    ["https://${HOST}/mcp", "https://example.com/mcp"],
    ["${HOST:-other.example}", "example.com"],
    ["${MISSING:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${MISSING:-}", ""],
    ["${EMPTY}", ""],
    ["${HOST}${HOST}", "example.comexample.com"],
    ["$HOST and $ alone", "$HOST and $ alone"],
    ["${MISSING:-a b:c/d}", "a b:c/d"],
    ["no references", "no references"],
  ];
  for (const [text, expected] of cases) assert.equal(expandVars(text, env, where), expected, text);
});

Deno.test("expandVars() rejects an unset variable naming it, the server and the path, never a value", () => {
  const error = configError(() =>
    expandVars("Bearer ${TOKEN} tok-SENTINEL-2 ${NOT_SET}", env, where)
  );
  assert.equal(error.path, "mcpServers.api.url");
  assert.equal(error.file, "/cfg/config.json");
  assert.match(error.message, /"NOT_SET"/);
  assert.match(error.message, /server "api"/);
  assert.doesNotMatch(error.message, /SENTINEL|Bearer/);
});

Deno.test("expandVars() rejects malformed references", () => {
  for (const text of ["${", "${HOST", "${1X}", "${A B}", "${}", "${HOST:default}"]) {
    const error = configError(() => expandVars(text, env, where));
    assert.equal(error.path, "mcpServers.api.url", text);
  }
});

Deno.test("expandStrings() expands nested strings with their JSON paths and skips comment keys", () => {
  const out = expandStrings(
    {
      url: "https://${HOST}",
      port: 3,
      args: ["--host", "${HOST}"],
      headers: { "X-Token": "${TOKEN}" },
      _comment: "set ${NOT_SET} first",
      $schema: "${NOT_SET}",
    },
    env,
    { path: "mcpServers.a", server: "a" },
  );
  assert.deepEqual(out, {
    url: "https://example.com",
    port: 3,
    args: ["--host", "example.com"],
    headers: { "X-Token": "tok-SENTINEL-1" },
    _comment: "set ${NOT_SET} first",
    $schema: "${NOT_SET}",
  });
  const error = configError(() =>
    expandStrings({ args: ["ok", "${NOT_SET}"] }, env, { path: "mcpServers.a" })
  );
  assert.equal(error.path, "mcpServers.a.args[1]");
});

Deno.test("expandVars() reports each variable it used that has a value", () => {
  const used: string[] = [];
  const onVariable = (name: string, value: string) => used.push(`${name}=${value}`);
  expandVars("${HOST} ${EMPTY:-x} ${MISSING:-y} ${TOKEN}", env, { ...where, onVariable });
  assert.deepEqual(used, ["HOST=example.com", "TOKEN=tok-SENTINEL-1"]);
});
