/**
 * Issue 12 item 2, the plugin: the Claude Code session-start hook runs with no user action, so it
 * must not start a gateway on an untrusted `./.toolscript.json`. It fails open (exit 0), exports
 * no gateway URL, and names `toolscript trust <path>` for the user.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliEnv, exists, MAIN_TS, REPO_ROOT, runCli } from "../_helpers.ts";
import { exportsOf, runHook } from "../_claude_hooks.ts";
import { assertNoCanary, hostileRepo } from "./_hostile_repo.ts";

Deno.test("the session-start hook starts no gateway in a repo whose .toolscript.json is untrusted", async () => {
  await using world = await hostileRepo();
  const home = join(world.dir.path, "home");
  const envFile = join(world.dir.path, "claude.env");
  const env = cliEnv({
    home,
    env: {
      ...world.env,
      TOOLSCRIPT_BIN: `${Deno.execPath()} run -A -q --config ${
        join(REPO_ROOT, "deno.json")
      } ${MAIN_TS}`,
      CLAUDE_ENV_FILE: envFile,
    },
  });
  const input = { session_id: "trust-spec", hook_event_name: "SessionStart" };

  const started = await runHook("session_start.sh", input, env, world.repo);
  assert.equal(started.code, 0, started.stderr);
  assert.ok(started.stderr.includes(`toolscript trust ${world.config}`), started.stderr);
  assertNoCanary(started, "session_start.sh");
  assert.equal(await exists(envFile), false, "no TOOLSCRIPT_GATEWAY_URL exported");
  assert.equal(await exists(join(home, "claude", "trust-spec.env")), false);
  assert.equal(await exists(join(home, "claude", "trust-spec.pid")), false);
  assert.equal(await exists(world.marker), false, "the stdio server was spawned");
  assert.equal(world.web.requests.length, 0, "the http server got a request");

  // Trusted by the user, the next session gets its gateway.
  const trusted = await runCli(["trust"], { cwd: world.repo, home, env: world.env });
  assert.equal(trusted.code, 0, trusted.stderr);
  const again = await runHook("session_start.sh", input, env, world.repo);
  try {
    assert.equal(again.code, 0, again.stderr);
    const url = exportsOf(await Deno.readTextFile(envFile)).TOOLSCRIPT_GATEWAY_URL;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  } finally {
    const ended = await runHook("session_end.sh", input, env, world.repo);
    assert.equal(ended.code, 0, ended.stderr);
  }
});
