import assert from "node:assert/strict";
import { join } from "node:path";
import { cliEnv, MAIN_TS, makeScratchDir, REPO_ROOT, writeConfig } from "../_helpers.ts";
import { exportsOf, runHook } from "../_claude_hooks.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";

Deno.test("the Claude session hooks start a gateway, export its URL and token, and stop it", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const envFile = join(dir.path, "claude.env");
  const env = cliEnv({
    home: dir,
    env: {
      TOOLSCRIPT_CONFIG: config,
      TOOLSCRIPT_BIN: `${Deno.execPath()} run -A -q --config ${
        join(REPO_ROOT, "deno.json")
      } ${MAIN_TS}`,
      CLAUDE_ENV_FILE: envFile,
    },
  });
  const input = { session_id: "spec-session", hook_event_name: "SessionStart" };

  const started = await runHook("session_start.sh", input, env);
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /toolscript exec/);
  const exported = exportsOf(await Deno.readTextFile(envFile));
  const url = exported.TOOLSCRIPT_GATEWAY_URL;
  const token = exported.TOOLSCRIPT_GATEWAY_TOKEN;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  assert.match(token, /^[0-9a-f]{64}$/);
  const health = (path: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, url), { headers });
  const refused = await health("/health");
  await refused.body?.cancel();
  assert.equal(refused.status, 401, "the gateway requires the exported token");
  const ok = await health("/health", { authorization: `Bearer ${token}` });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).servers[0].name, "web");

  const again = await runHook("session_start.sh", { ...input, source: "resume" }, env);
  assert.equal(again.code, 0, again.stderr);
  const lines = (await Deno.readTextFile(envFile)).trim().split("\n");
  assert.equal(lines.length, 4, "resume exports the same gateway again");
  assert.deepEqual(exportsOf(lines.slice(2).join("\n")), exported);

  const ended = await runHook("session_end.sh", { session_id: "spec-session" }, env);
  assert.equal(ended.code, 0, ended.stderr);
  await assert.rejects(health("/health"), TypeError, "the gateway is gone");
  const left = [...Deno.readDirSync(join(dir.path, "claude"))].map((e) => e.name);
  assert.deepEqual(left, []);
});
