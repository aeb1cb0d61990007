import assert from "node:assert/strict";
import { NotAuthenticatedError } from "../../src/errors.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/oauth_credentials.ts";
import { runCli } from "../_helpers.ts";
import { login, spawnAuth, startWorld } from "./_world.ts";

Deno.test("a refused dynamic registration says why, in the authorization server's words", async () => {
  await using world = await startWorld();
  const cli = spawnAuth(world, ["--scope", "bogus", "--timeout", "10"]);
  const status = await cli.status;
  assert.equal(status.code, 1, cli.stderr());
  assert.match(
    cli.stderr(),
    /error: Cannot start the OAuth login of server "demo": HTTP 400, error "invalid_client_metadata": "scope must only contain [^"]+"/,
  );
});

Deno.test("after a rejected refresh, a later call in another process says why a login is needed", async () => {
  await using world = await startWorld({ accessTokenTtlSeconds: 1 });
  await login(world);
  await world.as.revokeAll();
  const later = () => Date.now() + 3600_000;
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: new Logger({ level: "error", write: () => {} }),
    now: later,
  });
  await assert.rejects(provider.headers(), NotAuthenticatedError);

  const call = await runCli(
    ["call", "demo", "echo", '{"text":"hi"}', "--config", world.configPath],
    {
      home: world.home,
    },
  );
  assert.equal(call.code, 3, call.stderr);
  // The result goes to stdout, an isError tool result naming the reason and the command.
  assert.match(call.stdout, /refresh token was rejected/, call.stdout);
  assert.match(call.stdout, /toolscript auth demo --config /);
  const status = await runCli(["status", "demo", "--json", "--config", world.configPath], {
    home: world.home,
  });
  assert.match(status.stdout, /refresh token was rejected/);

  await login(world);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.equal(doc?.tokensDropped, undefined, "a new login forgets the old reason");
});
