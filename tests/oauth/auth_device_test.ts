import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { startWorld } from "./_world.ts";

Deno.test("auth --device logs in with the device flow and stores refreshable tokens", async () => {
  await using world = await startWorld();
  const result = await runCli(
    ["auth", "demo", "--device", "--no-browser", "--config", world.configPath],
    { home: world.home },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Authenticated demo\n");
  assert.match(
    result.stderr,
    /^Open this URL to authorize demo: http:\/\/127\.0\.0\.1:\d+\/device/m,
  );
  assert.match(result.stderr, /Then confirm the code: \S+/);
  assert.equal(world.as.counters.device, 1);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(doc?.tokens?.refreshToken);
  assert.ok(await world.as.verifyAccessToken(doc.tokens.accessToken));
});
