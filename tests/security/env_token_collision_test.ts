/**
 * Issue 12 item 5: `TOOLSCRIPT_TOKEN_TEAM_API` was sent to `team-api`, `team_api` and `Team_Api`.
 * Two server names that map to one `TOOLSCRIPT_TOKEN_<SERVER>` variable are now a config error
 * (exit 2) naming both servers and the variable, before anything is sent.
 */
import assert from "node:assert/strict";
import { makeScratchDir, runCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";

const CANARY = "canary-team-token-51d0c8";

Deno.test("servers whose names share a TOOLSCRIPT_TOKEN_ variable are refused, and get no token", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "team" });
  for (const names of [["team-api", "team_api"], ["team-api", "Team_Api"]]) {
    const config = await writeConfig(dir, {
      mcpServers: Object.fromEntries(names.map((name) => [name, { url: web.url }])),
    });
    for (const command of [["tools"], ["servers"]]) {
      const result = await runCli([...command, "--config", config], {
        home: dir,
        env: { TOOLSCRIPT_TOKEN_TEAM_API: CANARY },
      });
      assert.equal(result.code, 2, result.stderr);
      for (const name of names) assert.ok(result.stderr.includes(`"${name}"`), result.stderr);
      assert.ok(result.stderr.includes("TOOLSCRIPT_TOKEN_TEAM_API"), result.stderr);
      assert.ok(result.stderr.includes(config), "the error names the config file");
      assert.ok(!result.stdout.includes(CANARY) && !result.stderr.includes(CANARY));
    }
  }
  assert.equal(web.requests.length, 0, "no server got the token");
});

Deno.test("one server named team-api still gets TOOLSCRIPT_TOKEN_TEAM_API", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "team" });
  const config = await writeConfig(dir, { mcpServers: { "team-api": { url: web.url } } });
  const result = await runCli(["tools", "--config", config], {
    home: dir,
    env: { TOOLSCRIPT_TOKEN_TEAM_API: CANARY },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /team-api__echo/);
  const sent = web.requests.map((r) => r.headers.authorization).filter(Boolean);
  assert.ok(sent.length > 0 && sent.every((value) => value === `Bearer ${CANARY}`));
});
