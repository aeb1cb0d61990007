/**
 * `runSandboxed` with a real Deno child: type-checking has its own bound, apart from the run's
 * timeout, and a run root lets the next run reuse the previous run's directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSandboxed, type SandboxOptions } from "../../src/codemode/exec_sandbox.ts";
import { makeScratchDir } from "../_helpers.ts";

/** The smallest tools module: no server, and the `ToolError` every module exports. */
const TOOLS_MODULE = `export const tools = {};
export class ToolError extends Error {}
`;

function options(extra: Partial<SandboxOptions>): SandboxOptions & { output: () => string } {
  let output = "";
  return {
    toolsModule: TOOLS_MODULE,
    callTool: () => Promise.reject(new Error("no tools here")),
    timeoutMs: 60_000,
    env: (name) => Deno.env.get(name),
    stdout: (text) => output += text,
    stderr: (text) => output += text,
    output: () => output,
    ...extra,
  };
}

Deno.test("runSandboxed() stops a program whose type-checking outlasts its own bound, before its first line", async () => {
  // Never checked before, so Deno checks it from scratch, which takes far longer than 1 ms.
  const program = `// ${crypto.randomUUID()}\nconsole.log("RAN");\n`;
  const run = options({ checkTimeoutMs: 1 });
  const outcome = await runSandboxed(program, run);
  assert.deepEqual(outcome, { kind: "timed_out", phase: "check" });
  assert.doesNotMatch(run.output(), /RAN/);
});

Deno.test("runSandboxed() with a run root reuses one private directory for consecutive runs", async () => {
  await using dir = await makeScratchDir();
  const runRoot = join(dir.path, "runs");
  for (const text of ["first", "second"]) {
    const run = options({ runRoot });
    const outcome = await runSandboxed(`console.log(${JSON.stringify(text)});\n`, run);
    assert.deepEqual(outcome, { kind: "exited", code: 0 });
    assert.equal(run.output(), `${text}\n`);
  }
  const keys = [...Deno.readDirSync(runRoot)];
  assert.equal(keys.length, 1, "one tools module, one key");
  const slots = [...Deno.readDirSync(join(runRoot, keys[0].name))].map((e) => e.name);
  assert.deepEqual(slots, ["0"], "the second run took the first run's slot");
  assert.equal((await Deno.stat(runRoot)).mode! & 0o777, 0o700);
});
