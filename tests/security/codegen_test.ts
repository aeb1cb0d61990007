/**
 * Issue 12 item 4 and the printing part of item 7: an upstream's tool definitions cannot
 * freeze the gateway, crash it, break the tools module for other servers, or put escape
 * sequences on the user's terminal.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir, runCli, type ScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import { rawToolsServerCommand } from "../fixtures/raw_tools_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";
import { ESCAPES, hostileTools, REJECTED_IDENTIFIER_CHARS } from "./_hostile_tools.ts";

/** C0 controls other than tab and newline, DEL, C1 controls and bidi overrides. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** A config with the hostile fixture (`hostile`) beside the ordinary one (`local`). */
async function hostileConfig(dir: ScratchDir): Promise<string> {
  const toolsFile = join(dir.path, "tools.json");
  // One tool at a time: the deepest ones take most of the stack JSON.stringify may use.
  const json = hostileTools().map((tool) => JSON.stringify(tool));
  await Deno.writeTextFile(toolsFile, `[${json.join(",")}]`);
  return await writeConfig(dir, {
    mcpServers: { hostile: rawToolsServerCommand(toolsFile), local: stdioServerCommand() },
  });
}

/** Runs `deno check` (no config: Deno's strict defaults) on `files` in a scratch directory. */
async function denoCheck(files: Record<string, string>): Promise<{ ok: boolean; stderr: string }> {
  await using dir = await makeScratchDir();
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir.path, name), text);
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--no-config", ...Object.keys(files)],
    cwd: dir.path,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: output.success, stderr: new TextDecoder().decode(output.stderr) };
}

/** Uses the module as a program would: the plain tools keep their types. */
const CONSUMER = `import { tools } from "./tools.ts";
export const echoed: Promise<unknown> = tools.local.echo({ text: "hi" });
export const plain: Promise<unknown> = tools.hostile.plain({ q: "x" });
// @ts-expect-error: echo needs its text
export const missing = tools.local.echo({});
// @ts-expect-error: a (x) is a number
export const wrong = tools.local.add({ a: "1", b: 2 });
`;

Deno.test("a hostile upstream's schemas yield a small tools module that type-checks, and /health answers meanwhile", async () => {
  await using dir = await makeScratchDir();
  const config = await hostileConfig(dir);
  await using gateway = spawnCli(["gateway", "--config", config, "--port", "0"], { home: dir });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, {
    timeoutMs: 60_000,
  });
  const origin = new URL(url).origin;

  // Both requests at once: the module is generated while /health is asked.
  const [moduleResponse, healthResponse] = await Promise.all([
    fetch(`${origin}/runtime/tools.ts`),
    fetch(`${origin}/health`),
  ]);
  assert.equal(healthResponse.status, 200);
  const health = await healthResponse.json() as { servers: Array<{ name: string; state: string }> };
  assert.deepEqual(
    health.servers.map((s) => [s.name, s.state]).sort(),
    [["hostile", "ok"], ["local", "ok"]],
  );
  assert.equal(moduleResponse.status, 200);
  const source = await moduleResponse.text();
  assert.ok(source.length < 1024 * 1024, `module of ${source.length} characters`);
  assert.match(source, /async echo\(params: LocalEchoParams\)/);
  assert.match(source, /async exponentialDefs\(/);
  assert.match(source, /async deepProperties\(/);
  assert.doesNotMatch(source, CONTROL);
  assert.doesNotMatch(source, /^export const injected/m);
  for (const c of REJECTED_IDENTIFIER_CHARS) {
    assert.doesNotMatch(source, new RegExp(`^\\s*async [^(]*${c}`, "mu"), `U+${c} as a name`);
  }

  // The gateway is still serving: a second request (cached or not) and a tool call of a
  // normal server work.
  const again = await fetch(`${origin}/runtime/tools.ts?server=local`);
  assert.equal(again.status, 200);
  assert.match(await again.text(), /async echo\(/);

  const checked = await denoCheck({ "tools.ts": source, "consumer.ts": CONSUMER });
  assert.ok(checked.ok, checked.stderr);
});

Deno.test("types, tools and search print a hostile upstream's names and descriptions without control characters", async () => {
  await using dir = await makeScratchDir();
  const config = await hostileConfig(dir);
  const run = (...args: string[]) => runCli([...args, "--config", config], { home: dir });
  const [types, tools, toolsJson, search, searchJson] = await Promise.all([
    run("types"),
    run("tools"),
    run("tools", "--json"),
    run("search", "harmless", "evil"),
    run("search", "harmless", "--json"),
  ]);
  for (const [name, result] of Object.entries({ types, tools, toolsJson, search, searchJson })) {
    assert.equal(result.code, 0, `${name}: ${result.stderr}`);
    assert.doesNotMatch(result.stdout, CONTROL, `${name} stdout`);
    assert.doesNotMatch(result.stderr, CONTROL, `${name} stderr`);
  }

  // The legitimate text is still there, escapes removed.
  assert.match(tools.stdout, /^hostile__evil\[2J\]0;pwned\[8m31mname\t\[2J\]0;pwned\[8m31mLooks/m);
  assert.match(tools.stdout, /^local__echo\tEchoes the text back, prefixed with `echo: `\.$/m);
  assert.match(
    search.stdout,
    /^hostile__evil\[2J\]0;pwned\[8m31mname\t\[2J\]0;pwned\[8m31mLooks /m,
  );
  // JSON output keeps every character of the value, escaped.
  const listed = JSON.parse(toolsJson.stdout) as Array<{ name: string; description?: string }>;
  assert.ok(listed.some((t) => t.name === `hostile__evil${ESCAPES}name`));
  const hits = JSON.parse(searchJson.stdout) as Array<{ id: string }>;
  assert.ok(hits.some((h) => h.id === `hostile__evil${ESCAPES}name`));

  const checked = await denoCheck({ "tools.ts": types.stdout });
  assert.ok(checked.ok, checked.stderr);
});
