/**
 * The warm type-checker (a long-lived `deno lsp`): its verdicts agree with `deno check`, a run
 * it clears behaves exactly like one type-checked by `deno run --check`, and a dead server,
 * concurrent checks and changed programs or tools modules never let a program run unchecked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSandboxed, type SandboxOptions } from "../../src/codemode/exec_sandbox.ts";
import { type ProgramChecker, WarmChecker } from "../../src/codemode/warm_checker.ts";
import { generateToolsModule } from "../../src/codemode/tools_module.ts";
import { UNUSED_GATEWAY_URL } from "../../src/codemode/code_mode_tools.ts";
import { makeScratchDir } from "../_helpers.ts";

/** A tools module as the gateway generates it: one server `calc` with `add`. */
function calcModule(tool = "add"): string {
  return generateToolsModule([{
    server: "calc",
    name: tool,
    exposedName: `calc__${tool}`,
    description: "Adds two numbers.",
    inputSchema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    },
    outputSchema: {
      type: "object",
      properties: { sum: { type: "number" } },
      required: ["sum"],
    },
  }], { gatewayUrl: UNUSED_GATEWAY_URL });
}

const TOOLS = calcModule();

function options(extra: Partial<SandboxOptions>): SandboxOptions & { output: () => string } {
  let output = "";
  return {
    toolsModule: TOOLS,
    callTool: (_name, args) =>
      Promise.resolve({
        content: [],
        structuredContent: { sum: (args.a as number) + (args.b as number) },
      }),
    timeoutMs: 60_000,
    env: (name) => Deno.env.get(name),
    stdout: (text) => output += text,
    stderr: (text) => output += text,
    output: () => output,
    ...extra,
  };
}

/** Programs of the code-mode specs, clean ones and every kind of failure. */
const PROGRAMS: { name: string; code: string; clean: boolean }[] = [
  {
    name: "a tool call",
    code: `import { tools } from "toolscript";
const { sum } = await tools.calc.add({ a: 1, b: 2 });
console.log("sum", sum);
`,
    clean: true,
  },
  {
    name: "globals of the sandbox and an unused variable",
    code: `const unused = 1;
setTimeout(() => console.log("timer", performance.now() >= 0), 1);
`,
    clean: true,
  },
  {
    name: "a type error",
    code: `import { tools } from "toolscript";
const text: string = (await tools.calc.add({ a: 1, b: 2 })).sum;
console.log("RAN", text);
`,
    clean: false,
  },
  {
    name: "a wrong argument",
    code: `import { tools } from "toolscript";
console.log("RAN", await tools.calc.add({ a: "1", b: 2 }));
`,
    clean: false,
  },
  {
    name: "Node's Buffer, which the sandbox's libraries do not declare",
    code: `console.log("RAN", Buffer.from("x"));\n`,
    clean: false,
  },
  {
    name: "an npm import",
    code: `import x from "npm:left-pad";\nconsole.log("RAN", x);\n`,
    clean: false,
  },
  {
    name: "a remote import",
    code: `import x from "https://example.com/x.ts";\nconsole.log("RAN", x);\n`,
    clean: false,
  },
  {
    name: "a node: import",
    code: `import { readFileSync } from "node:fs";\nconsole.log("RAN", readFileSync);\n`,
    clean: false,
  },
  {
    name: "a program that throws",
    code: `throw new Error("thrown on purpose");\n`,
    clean: true,
  },
];

Deno.test("the warm checker agrees with deno check, and a run it clears is a run deno check cleared", async () => {
  await using dir = await makeScratchDir();
  await using checker = new WarmChecker({
    denoPath: Deno.execPath(),
    root: join(dir.path, "checker"),
    env: (name) => Deno.env.get(name),
  });
  await checker.warmUp(TOOLS);
  for (const program of PROGRAMS) {
    // A comment never seen before: Deno's own cache cannot answer for either side.
    const code = `// ${crypto.randomUUID()}\n${program.code}`;
    assert.equal(
      await checker.check(code, TOOLS),
      program.clean ? "clean" : "unsure",
      program.name,
    );
    const cold = options({});
    const warm = options({ checker });
    const coldOutcome = await runSandboxed(code, cold);
    const warmOutcome = await runSandboxed(code, warm);
    assert.deepEqual(warmOutcome, coldOutcome, program.name);
    const normalize = (text: string) => text.replaceAll(/\/\/ [0-9a-f-]{36}/g, "");
    assert.equal(normalize(warm.output()), normalize(cold.output()), program.name);
    if (!program.clean) assert.doesNotMatch(warm.output(), /^RAN/m, program.name);
  }
});

Deno.test("a checker not yet warm answers unsure at once and warms up for the next check", async () => {
  await using dir = await makeScratchDir();
  await using checker = new WarmChecker({
    denoPath: Deno.execPath(),
    root: join(dir.path, "checker"),
    env: (name) => Deno.env.get(name),
  });
  const code = `console.log("warm");\n`;
  assert.equal(await checker.check(code, TOOLS), "unsure");
  assert.equal(checker.serverPid(), undefined);
  await checker.warmUp(TOOLS);
  assert.equal(await checker.check(code, TOOLS), "clean");
});

Deno.test("a type error reaches the user as deno check's diagnostics, through the warm path", async () => {
  await using dir = await makeScratchDir();
  await using checker = new WarmChecker({
    denoPath: Deno.execPath(),
    root: join(dir.path, "checker"),
    env: (name) => Deno.env.get(name),
  });
  await checker.warmUp(TOOLS);
  const code =
    `import { tools } from "toolscript";\nconst n: string = 1;\nconsole.log("RAN", n, tools);\n`;
  const run = options({ checker });
  const outcome = await runSandboxed(code, run);
  assert.deepEqual(outcome, { kind: "exited", code: 1 });
  assert.match(run.output(), /TS2322 \[ERROR\]: Type 'number' is not assignable to type 'string'/);
  assert.match(run.output(), /at program\.ts:2:7/);
  assert.doesNotMatch(run.output(), /^RAN/m);
});

Deno.test("a clean verdict is what spares the check: a checker that lies lets a type error run", async () => {
  // The wiring spec: only the verdict decides between --check and --no-check.
  const liar: ProgramChecker = { check: () => Promise.resolve("clean") };
  const run = options({ checker: liar });
  const outcome = await runSandboxed(`const n: string = 1;\nconsole.log("RAN", n);\n`, run);
  assert.deepEqual(outcome, { kind: "exited", code: 0 });
  assert.equal(run.output(), "RAN 1\n");
});

Deno.test("a checker killed mid-check answers unsure, the run type-checks itself, and the next check recovers", async () => {
  await using dir = await makeScratchDir();
  await using checker = new WarmChecker({
    denoPath: Deno.execPath(),
    root: join(dir.path, "checker"),
    env: (name) => Deno.env.get(name),
  });
  await checker.warmUp(TOOLS);
  assert.equal(await checker.check(`console.log(1);\n`, TOOLS), "clean");
  const pid = checker.serverPid();
  assert.ok(pid !== undefined);
  // A program with a type error, checked while its server dies.
  const code = `const n: string = 1;\nconsole.log("RAN", n);\n`;
  const run = options({ checker });
  const running = runSandboxed(code, run);
  Deno.kill(pid, "SIGKILL");
  assert.deepEqual(await running, { kind: "exited", code: 1 });
  assert.match(run.output(), /TS2322/);
  assert.doesNotMatch(run.output(), /^RAN/m);
  // The next check finds the server dead, answers unsure and starts a new one, which answers.
  const next = `// ${crypto.randomUUID()}\nconsole.log(2);\n`;
  assert.equal(await checker.check(next, TOOLS), "unsure");
  await checker.warmUp(TOOLS);
  assert.equal(await checker.check(next, TOOLS), "clean");
  const nextPid = checker.serverPid();
  assert.ok(nextPid !== undefined && nextPid !== pid);
});

Deno.test("two concurrent checks do not mix their diagnostics", async () => {
  await using dir = await makeScratchDir();
  await using checker = new WarmChecker({
    denoPath: Deno.execPath(),
    root: join(dir.path, "checker"),
    env: (name) => Deno.env.get(name),
  });
  await checker.warmUp(TOOLS);
  const good =
    `import { tools } from "toolscript";\nconsole.log("GOOD", (await tools.calc.add({ a: 2, b: 2 })).sum);\n`;
  const bad = `const n: string = 1;\nconsole.log("BAD", n);\n`;
  const verdicts = await Promise.all([
    checker.check(good, TOOLS),
    checker.check(bad, TOOLS),
    checker.check(good, TOOLS),
    checker.check(bad, TOOLS),
  ]);
  assert.deepEqual(verdicts, ["clean", "unsure", "clean", "unsure"]);
  const goodRun = options({ checker }), badRun = options({ checker });
  const [goodOutcome, badOutcome] = await Promise.all([
    runSandboxed(good, goodRun),
    runSandboxed(bad, badRun),
  ]);
  assert.deepEqual(goodOutcome, { kind: "exited", code: 0 });
  assert.equal(goodRun.output(), "GOOD 4\n");
  assert.deepEqual(badOutcome, { kind: "exited", code: 1 });
  assert.match(badRun.output(), /TS2322/);
  assert.doesNotMatch(badRun.output(), /GOOD|BAD 1/);
});

Deno.test("an unchanged program checks clean again, a changed one or a changed tools module is checked anew", async () => {
  await using dir = await makeScratchDir();
  await using checker = new WarmChecker({
    denoPath: Deno.execPath(),
    root: join(dir.path, "checker"),
    env: (name) => Deno.env.get(name),
  });
  await checker.warmUp(TOOLS);
  const program =
    `import { tools } from "toolscript";\nconsole.log((await tools.calc.add({ a: 1, b: 2 })).sum);\n`;
  assert.equal(await checker.check(program, TOOLS), "clean");
  assert.equal(await checker.check(program, TOOLS), "clean");
  const changed = program.replace("{ a: 1, b: 2 }", `{ a: 1, b: "2" }`);
  assert.equal(await checker.check(changed, TOOLS), "unsure");
  // The tool is renamed: the same program no longer type-checks, and back.
  const renamed = calcModule("plus");
  assert.equal(await checker.check(program, renamed), "unsure");
  assert.equal(await checker.check(program.replace(".add(", ".plus("), renamed), "clean");
  assert.equal(await checker.check(program, TOOLS), "clean");
  // A tools module that itself fails to type-check is never vouched for.
  assert.equal(
    await checker.check(`console.log(1);\n`, `export const tools: number = "x";\n`),
    "unsure",
  );
});
