import assert from "node:assert/strict";
import { AuthError, NotAuthenticatedError } from "../../src/errors.ts";
import { renderFix } from "../../src/fix_command.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { connectWith, login, startWorld, textOf } from "./_world.ts";

const quiet = () => new Logger({ level: "error", write: () => {} });
const later = () => Date.now() + 2 * 3600_000;
const rejected = () =>
  new Response(null, {
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
  });

Deno.test("a failing token endpoint (503, 429) keeps the tokens and reports a temporary error", async () => {
  await using world = await startWorld();
  await login(world);
  const stored = await world.store.load("demo", world.mcp.url);
  for (const status of [503, 429]) {
    world.as.failTokenRequests(1, status);
    const provider = new OAuthCredentialProvider(world.server, {
      store: world.store,
      logger: quiet(),
      now: later,
    });
    const error = await provider.headers().catch((e) => e);
    assert.ok(error instanceof AuthError, String(error));
    assert.equal(error.temporary, true);
    // The clock is past the expiry: the token held is expired, and the refresh failed.
    assert.equal((await provider.status()).state, "expired");
    assert.deepEqual((await world.store.load("demo", world.mcp.url))?.tokens, stored?.tokens);
  }
  const provider = new OAuthCredentialProvider(world.server, { store: world.store, now: later });
  const headers = await provider.headers();
  assert.match(headers.Authorization, /^Bearer /);
  assert.notEqual(headers.Authorization, `Bearer ${stored!.tokens!.accessToken}`);
  assert.equal((await provider.status()).state, "ok");
});

Deno.test("a provider skips its refresh when another one already refreshed", async () => {
  await using world = await startWorld();
  await login(world);
  const gateway = new OAuthCredentialProvider(world.server, { store: world.store });
  const old = await gateway.headers();
  const other = new OAuthCredentialProvider(world.server, { store: world.store, now: later });
  const fresh = await other.headers();
  assert.notDeepEqual(fresh, old);
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1);

  assert.equal(await gateway.recover(rejected()), true);
  assert.deepEqual(await gateway.headers(), fresh);
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1, "no second refresh");
});

Deno.test("a 403 insufficient_scope asks to log in again with the union of scopes", async () => {
  await using world = await startWorld({
    scopes: ["mcp:tools", "mcp:admin"],
    requiredScopes: ["mcp:tools", "mcp:admin"],
  });
  await login(world, ["--scope", "mcp:tools"]);
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: quiet(),
  });
  const error = await connectWith(world, provider).then(
    async (client) => void await client.close(),
    (e) => e,
  );
  let found: unknown = error;
  while (found && !(found instanceof NotAuthenticatedError)) found = (found as Error).cause;
  assert.ok(found instanceof NotAuthenticatedError, String(error));
  assert.deepEqual(found.login, { server: "demo", scopes: ["mcp:tools", "mcp:admin"] });
  assert.equal(
    renderFix(found, { configPath: world.configPath }),
    `toolscript auth demo --scope "mcp:tools mcp:admin" --config ${world.configPath}`,
  );
  assert.ok(await world.store.load("demo", world.mcp.url).then((d) => d?.tokens), "tokens kept");
});

Deno.test("implicit mode sends no credentials until the user logs in, then uses them", async () => {
  await using world = await startWorld({ auth: null });
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: quiet(),
    implicit: true,
  });
  assert.deepEqual(await provider.headers(), {});
  assert.equal(await provider.recover(rejected()), false);
  assert.deepEqual(await provider.status(), { authType: "none", state: "ok" });

  await login(world);
  await using client = await connectWith(world, provider);
  assert.equal(
    textOf(await client.callTool({ name: "echo", arguments: { text: "i" } })),
    "echo: i",
  );
  assert.equal((await provider.status()).state, "ok");
});

Deno.test("an explicit oauth server without stored credentials names the auth command", async () => {
  await using world = await startWorld();
  const provider = new OAuthCredentialProvider(world.server, { store: world.store });
  const error = await provider.headers().catch((e) => e);
  assert.ok(error instanceof NotAuthenticatedError);
  assert.equal(error.fix, "toolscript auth demo");
  assert.equal((await provider.status()).state, "needs-auth");
});
