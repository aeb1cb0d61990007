import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { login, spawnAuth, startWorld } from "./_world.ts";

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

Deno.test("a gateway refreshes the server while auth --device waits for the user's approval", async () => {
  await using world = await startWorld({ deviceApproval: "manual" });
  await login(world);
  await using cli = spawnAuth(world, ["--device"]);
  const [, userCode] = await cli.waitForLine(/^Then confirm the code: (\S+)$/, {
    stream: "stderr",
  });
  // The login now polls the token endpoint until the user approves; it holds no lock meanwhile.
  const gateway = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: new Logger({ level: "error", write: () => {} }),
    lockTimeoutMs: 20_000, // bounds the spec when the login does hold the lock
  });
  const before = await gateway.headers();
  const rejected = new Response(null, {
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
  });
  assert.equal(await gateway.recover(rejected), true, "the refresh went through");
  assert.notDeepEqual(await gateway.headers(), before);
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1);

  await world.as.approveDevice(userCode);
  assert.equal((await cli.status).code, 0, cli.stderr());
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(await world.as.verifyAccessToken(doc!.tokens!.accessToken));
});
