import assert from "node:assert/strict";
import { validateConfig } from "../config/validate_config.ts";
import type { ServerConfig } from "../config/types.ts";
import { planReload } from "./reload_plan.ts";

function servers(mcpServers: Record<string, unknown>): ServerConfig[] {
  return validateConfig({ mcpServers }, { source: "flag", env: () => undefined }).servers;
}

const a = { command: "a", args: ["1"] };
const b = { type: "http", url: "http://127.0.0.1:1/mcp", headers: { "X-Team": "one" } };

Deno.test("planReload: the same entries, keys reordered, change nothing", () => {
  const plan = planReload(
    servers({ a, b }),
    servers({ a: { args: ["1"], command: "a" }, b: { ...b, type: "http" } }),
  );
  assert.deepEqual(plan, {
    order: ["a", "b"],
    added: [],
    changed: [],
    removed: [],
    reshaped: false,
  });
});

Deno.test("planReload: new, changed, disabled and dropped servers, in the new order", () => {
  const plan = planReload(
    servers({ a, b, c: { command: "c" } }),
    servers({
      d: { command: "d" },
      b: { ...b, headers: { "X-Team": "two" } },
      a: { ...a, enabled: false },
    }),
  );
  assert.deepEqual(plan.order, ["d", "b"]);
  assert.deepEqual(plan.added.map((s) => s.name), ["d"]);
  assert.deepEqual(plan.changed.map((s) => s.name), ["b"]);
  assert.deepEqual(plan.removed, ["a", "c"]);
  assert.equal(plan.reshaped, true);
});

Deno.test("planReload: a new order alone reshapes (it decides who wins a shared name)", () => {
  const plan = planReload(servers({ a, b }), servers({ b, a }));
  assert.deepEqual([plan.added, plan.changed, plan.removed], [[], [], []]);
  assert.deepEqual(plan.order, ["b", "a"]);
  assert.equal(plan.reshaped, true);
});
