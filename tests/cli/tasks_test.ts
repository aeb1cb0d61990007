import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../_helpers.ts";

const REPO_ROOT = join(import.meta.dirname!, "..", "..");
const decoder = new TextDecoder();

async function tasks(): Promise<Record<string, string>> {
  return JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json"))).tasks;
}

function v8FlagsOf(task: string): string | undefined {
  return task.split(/\s+/).find((word) => word.startsWith("--v8-flags="));
}

Deno.test("the gateway task bounds the heap, and V8 takes its flags; the CLI tasks keep Deno's defaults", async () => {
  const all = await tasks();
  const flags = v8FlagsOf(all.gateway);
  assert.ok(flags, "the gateway task sets --v8-flags");
  // With non-default V8 flags Deno's code cache is rejected and rewritten whenever a process
  // with other flags shares a module (an SDK server): 150 ms more per start, so the gateway
  // does without the cache. A short CLI command needs neither: the cache saves it 50 ms.
  assert.match(all.gateway, /\s--no-code-cache\s/);
  for (const name of ["cli", "install", "compile"]) {
    assert.equal(v8FlagsOf(all[name]), undefined, `deno task ${name}`);
    assert.doesNotMatch(all[name], /--no-code-cache/, `deno task ${name}`);
  }
  // An unknown V8 flag stops deno at start ("V8 did not recognize flag").
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", flags, "console.log('ok')"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, decoder.decode(output.stderr));
  assert.equal(decoder.decode(output.stdout).trim(), "ok");
});

Deno.test("deno task install makes a toolscript command that runs", async () => {
  await using root = await makeScratchDir();
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["task", "install"],
    cwd: REPO_ROOT,
    env: { DENO_INSTALL_ROOT: root.path },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(install.success, decoder.decode(install.stderr));
  const command = join(root.path, "bin", "toolscript");
  const help = await new Deno.Command(command, {
    args: ["--help"],
    cwd: root.path,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(help.code, 0, decoder.decode(help.stderr));
  assert.match(decoder.decode(help.stdout), /^toolscript — /);
});
