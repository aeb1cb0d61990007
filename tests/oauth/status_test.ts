import assert from "node:assert/strict";
import { runCli, writeConfig } from "../_helpers.ts";
import { login, startWorld } from "./_world.ts";

Deno.test("status shows needs-auth, then ok with expiry, scopes and client kind, and never a token", async () => {
  await using world = await startWorld();
  const before = await runCli(["status", "demo", "--json", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(before.code, 3, before.stderr);
  assert.equal(JSON.parse(before.stdout)[0].state, "needs-auth");
  assert.match(before.stdout, /toolscript auth demo --config/);
  // The gateway's health renders the fix, and the error that names it, with this --config.
  const [needsAuth] = JSON.parse(before.stdout);
  const fix = `toolscript auth demo --config ${world.configPath}`;
  assert.equal(needsAuth.fix, fix);
  assert.equal(needsAuth.error, `Cannot call server "demo": no stored credentials; run: ${fix}`);

  await login(world);
  const [json, text] = await Promise.all([
    runCli(["status", "--json", "--config", world.configPath], { home: world.home }),
    runCli(["status", "--config", world.configPath], { home: world.home }),
  ]);
  assert.equal(json.code, 0, json.stderr);
  const [row] = JSON.parse(json.stdout);
  assert.equal(row.server, "demo");
  assert.equal(row.transport, "http");
  assert.equal(row.auth, "oauth");
  assert.equal(row.state, "ok");
  assert.deepEqual(row.scopes, ["mcp:tools"]);
  assert.equal(row.registration, "dynamic");
  assert.ok(Date.parse(row.expiresAt) > Date.now());
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^demo\thttp\toauth\tok\texpires /m);
  const doc = await world.store.load("demo", world.mcp.url);
  for (const secret of [doc!.tokens!.accessToken, doc!.tokens!.refreshToken!]) {
    for (const output of [json, text]) {
      assert.ok(!(output.stdout + output.stderr).includes(secret), "a token was printed");
    }
  }
});

Deno.test("status exits 1 and says why when a server cannot be reached", async () => {
  await using world = await startWorld();
  const config = await writeConfig(world.dir, {
    mcpServers: { down: { type: "http", url: "http://127.0.0.1:9/mcp", timeout: 2 } },
  }, "down.json");
  const result = await runCli(["status", "--config", config], { home: world.home });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /^down\thttp\tnone\terror\t.*"down"/m);
});
