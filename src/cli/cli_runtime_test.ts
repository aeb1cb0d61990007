import assert from "node:assert/strict";
import { createCliLogger } from "./cli_runtime.ts";

function envOf(vars: Record<string, string>) {
  return (name: string) => Object.hasOwn(vars, name) ? vars[name] : undefined;
}

Deno.test("createCliLogger() reads TOOLSCRIPT_LOG in any case, quietly", () => {
  const lines: string[] = [];
  const logger = createCliLogger(envOf({ TOOLSCRIPT_LOG: "DEBUG" }), (l) => lines.push(l));
  assert.equal(logger.level, "debug");
  assert.equal(lines.length, 0);
  const unset = createCliLogger(envOf({}), (l) => lines.push(l));
  assert.equal(unset.level, "info");
  assert.equal(lines.length, 0);
});

Deno.test("createCliLogger() warns once about an unknown TOOLSCRIPT_LOG and uses info", () => {
  for (const value of ["verbose", "toString"]) {
    const lines: string[] = [];
    const logger = createCliLogger(envOf({ TOOLSCRIPT_LOG: value }), (l) => lines.push(l));
    assert.equal(logger.level, "info");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], new RegExp(`warn unknown TOOLSCRIPT_LOG value "${value}", using info`));
  }
});
