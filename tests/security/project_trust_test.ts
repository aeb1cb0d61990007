/**
 * Issue 12 item 2: a `./.toolscript.json` in a cloned repository must not take over. The hostile
 * config's stdio server would write a marker file, its http server records every request, and
 * the environment holds canary secrets (`TOOLSCRIPT_TOKEN_REMOTE`, a `${VAR}` sent as a header).
 * Until `toolscript trust` records the file, every command that loads config exits 2 with
 * `fix: toolscript trust <path>`, spawns nothing and sends nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, exists, makeScratchDir, runCli, spawnCli } from "../_helpers.ts";
import { assertNoCanary, type HostileRepo, hostileRepo, TOKEN_CANARY } from "./_hostile_repo.ts";

/** Every command that loads config, with arguments that would reach both servers. */
const COMMANDS: string[][] = [
  ["status"],
  ["tools"],
  ["search", "echo"],
  ["types"],
  ["servers"],
  ["call", "remote", "echo", '{"text":"hi"}'],
  ["gateway", "--port", "0"],
  [
    "exec",
    'import { tools } from "toolscript"; console.log(await tools.remote.echo({ text: "x" }));',
  ],
];

function run(world: HostileRepo, args: string[], env: Record<string, string> = {}) {
  return runCli(args, {
    cwd: world.repo,
    home: join(world.dir.path, "home"),
    env: { ...world.env, ...env },
  });
}

/** Asserts the refusal the contract names, and that nothing was spawned or sent. */
async function assertRefused(world: HostileRepo, result: CliResult, what: string): Promise<void> {
  assert.equal(result.code, 2, `${what}: ${result.stderr}`);
  assert.ok(
    result.stderr.includes(`fix: toolscript trust ${world.config}\n`),
    `${what}: ${result.stderr}`,
  );
  assert.match(result.stderr, /^error: /m);
  assertNoCanary(result, what);
  assert.equal(await exists(world.marker), false, `${what}: the stdio server was spawned`);
  assert.equal(world.web.requests.length, 0, `${what}: the http server got a request`);
}

Deno.test("every command refuses an untrusted ./.toolscript.json: nothing spawned, nothing sent", async () => {
  await using world = await hostileRepo();
  for (const args of COMMANDS) {
    await assertRefused(world, await run(world, args), args[0]);
  }
});

Deno.test("after toolscript trust the project config works, and an edit is refused again", async () => {
  await using world = await hostileRepo();
  const trusted = await run(world, ["trust"]);
  assert.equal(trusted.code, 0, trusted.stderr);
  assertNoCanary(trusted, "trust");
  assert.equal(world.web.requests.length, 0, "trust itself sends nothing");
  assert.equal(await exists(world.marker), false, "trust itself spawns nothing");
  // It shows what the config would run and reach, then confirms.
  assert.ok(trusted.stdout.includes(`run sh -c `), trusted.stdout);
  assert.ok(trusted.stdout.includes(world.web.url), trusted.stdout);
  assert.ok(trusted.stdout.includes("LEAK"), "the env names of the stdio server");
  assert.ok(trusted.stdout.includes("$TOOLSCRIPT_TOKEN_REMOTE"), "the token it would send");
  assert.match(
    trusted.stdout,
    new RegExp(`^Trusted ${world.config} \\(sha256 [0-9a-f]{64}\\)$`, "m"),
  );

  const tools = await run(world, ["tools"]);
  assert.equal(tools.code, 0, tools.stderr);
  assert.match(tools.stdout, /local__echo/);
  assert.match(tools.stdout, /remote__echo/);
  assert.equal(await exists(world.marker), true, "the trusted stdio server runs");
  const sent = world.web.requests.find((r) => r.headers.authorization);
  assert.equal(
    sent?.headers.authorization,
    `Bearer ${TOKEN_CANARY}`,
    "the trusted server gets its token",
  );

  // The rest load config the same way; these few keep the spec short on two shared cores.
  const others = COMMANDS.filter(([name]) => ["status", "servers", "call"].includes(name));
  for (const args of others) {
    const result = await run(world, args);
    assert.equal(result.code, 0, `${args[0]}: ${result.stderr}`);
    assertNoCanary(result, args[0]);
  }
  await using gateway = spawnCli(["gateway", "--port", "0"], {
    cwd: world.repo,
    home: join(world.dir.path, "home"),
    env: world.env,
  });
  await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=http:\/\/127\.0\.0\.1:\d+\/mcp$/);

  await Deno.writeTextFile(world.config, (await Deno.readTextFile(world.config)) + "\n");
  await Deno.remove(world.marker);
  world.web.requests.length = 0;
  const edited = await run(world, ["tools"]);
  await assertRefused(world, edited, "tools after an edit");
  assert.match(edited.stderr, /changed since it was trusted/);
});

Deno.test("a ./.toolscript.json named by --config or $TOOLSCRIPT_CONFIG is used without trust", async () => {
  await using world = await hostileRepo();
  for (
    const [args, env] of [
      [["tools", "--config", "./.toolscript.json"], {}],
      [["tools"], { TOOLSCRIPT_CONFIG: world.config }],
    ] as [string[], Record<string, string>][]
  ) {
    const result = await run(world, args, env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /remote__echo/);
  }
  assert.equal(await exists(world.marker), true);
  assert.equal(await exists(join(world.dir.path, "home", "trusted.json")), false);
});

Deno.test("toolscript trust refuses a missing or invalid config with exit 2 and records nothing", async () => {
  await using dir = await makeScratchDir();
  const home = join(dir.path, "home");
  const missing = await runCli(["trust"], { cwd: dir.path, home });
  assert.equal(missing.code, 2, missing.stderr);
  assert.ok(missing.stderr.includes(join(dir.path, ".toolscript.json")), missing.stderr);
  await Deno.writeTextFile(join(dir.path, ".toolscript.json"), '{"mcpServers": {"a": {}}}');
  const invalid = await runCli(["trust"], { cwd: dir.path, home });
  assert.equal(invalid.code, 2, invalid.stderr);
  assert.match(invalid.stderr, /mcpServers\.a\.url/);
  assert.equal(await exists(join(home, "trusted.json")), false);
});
