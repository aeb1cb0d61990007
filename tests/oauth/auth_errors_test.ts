import assert from "node:assert/strict";
import { NotAuthenticatedError } from "../../src/errors.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
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

Deno.test("an AS that forgot our registered client: the refresh says so and the next login registers anew", async () => {
  await using world = await startWorld();
  await login(world);
  const first = (await world.store.load("demo", world.mcp.url))!.client!.clientId;
  world.as.forgetRegisteredClients();
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: new Logger({ level: "error", write: () => {} }),
    now: () => Date.now() + 2 * 3600_000,
  });
  const error = await provider.headers().catch((e) => e);
  assert.ok(error instanceof NotAuthenticatedError, String(error));
  assert.match(error.message, /no longer knows the client/);
  assert.equal((await world.store.load("demo", world.mcp.url))?.client, undefined);

  const registrations = world.as.counters.register;
  await login(world);
  assert.equal(world.as.counters.register, registrations + 1, "registered once more");
  const again = (await world.store.load("demo", world.mcp.url))!.client!.clientId;
  assert.notEqual(again, first);
});

Deno.test("a corrupt credential file is a missing login (exit 3) that toolscript auth replaces", async () => {
  await using world = await startWorld();
  await login(world);
  const canary = "corrupt-canary-7c2a";
  await Deno.writeTextFile(world.credentialFile, `{"version":1,"tokens":"${canary}`);
  const call = await runCli(
    ["call", "demo", "echo", '{"text":"hi"}', "--config", world.configPath],
    {
      home: world.home,
    },
  );
  assert.equal(call.code, 3, call.stderr + call.stdout);
  assert.ok(
    (call.stdout + call.stderr).includes(`toolscript auth demo --config ${world.configPath}`),
  );
  assert.doesNotMatch(call.stdout + call.stderr, /\brm '/, "the fix is a login, not rm");
  assert.ok(!(call.stdout + call.stderr).includes(canary));

  await login(world);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(await world.as.verifyAccessToken(doc!.tokens!.accessToken), "replaced by the login");
});
