import assert from "node:assert/strict";
import { join } from "node:path";

const REPO_ROOT = join(import.meta.dirname!, "..", "..");

Deno.test("the gateway's lock holds exactly what the CLI runs, and no test-only package", async () => {
  const lock = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.lock")));
  const packages = Object.keys(lock.npm ?? {});
  for (const testOnly of ["oidc-provider", "koa", "mcp-remote"]) {
    assert.ok(!packages.some((p) => p.startsWith(`${testOnly}@`)), `${testOnly} in deno.lock`);
  }
  // --frozen: the CLI's module graph resolves from deno.lock alone (nothing missing).
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--frozen", "--config", join(REPO_ROOT, "deno.json"), "main.ts", "mod.ts"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
});
