import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { login, startWorld } from "./_world.ts";

Deno.test("logout revokes the tokens at the authorization server and deletes the credentials", async () => {
  await using world = await startWorld();
  await login(world);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(await world.as.verifyAccessToken(doc!.tokens!.accessToken));

  const result = await runCli(["logout", "demo", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Revoked and removed credentials for demo\n");
  assert.equal(world.as.counters.revoke, 2, "refresh token and access token");
  assert.equal(await world.as.verifyAccessToken(doc!.tokens!.accessToken), undefined);
  assert.equal(await world.store.load("demo", world.mcp.url), undefined);

  const again = await runCli(["logout", "demo", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, "No stored credentials for demo\n");
});

Deno.test("logout deletes the credentials even when the authorization server is gone", async () => {
  await using world = await startWorld();
  await login(world);
  await world.as.close();
  const result = await runCli(["logout", "demo", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^Removed credentials for demo \(revocation failed: network error\)\n$/,
  );
  assert.equal(await world.store.load("demo", world.mcp.url), undefined);
});
