import assert from "node:assert/strict";
import { NotAuthenticatedError } from "../../src/errors.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { login, startWorld } from "./_world.ts";

// The authorization server counts token lifetimes in whole seconds (`iat`, `exp`, `expires_in`):
// a "2 s" token may end 1 s after it was issued. These specs drive the provider's clock.

const quiet = () => new Logger({ level: "error", write: () => {} });
const rejected = () =>
  new Response(null, {
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
  });

Deno.test("a token's lifetime counts from when the refresh request left, not from its slow answer", async () => {
  await using world = await startWorld({ accessTokenTtlSeconds: 2 });
  await login(world);
  let now = Date.now();
  const sentAt = now;
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: quiet(),
    now: () => now,
    // A loaded machine: every answer reaches us 1.5 s (by the provider's clock) after it left.
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      now += 1500;
      return response;
    },
  });
  const before = (await world.store.load("demo", world.mcp.url))!.tokens!.accessToken;
  assert.equal(await provider.recover(rejected()), true);
  const tokens = (await world.store.load("demo", world.mcp.url))!.tokens!;
  assert.notEqual(tokens.accessToken, before, "refreshed");
  assert.equal(tokens.obtainedAt, sentAt);
  assert.equal(tokens.expiresAt, sentAt + 2000, "the server's 2 s end at the latest");
});

Deno.test("a refreshed token refused once it may have ended is refreshed again; refused while surely valid, it needs a login", async () => {
  await using world = await startWorld({ accessTokenTtlSeconds: 2 });
  await login(world);
  let now = Date.now();
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: quiet(),
    now: () => now,
  });
  const refreshes = () => world.as.counters.tokenByGrant.refresh_token ?? 0;
  const first = await provider.headers();
  assert.equal(await provider.recover(rejected()), true, "a refused token is refreshed");
  const fresh = await provider.headers();
  assert.notDeepEqual(fresh, first);
  assert.equal(refreshes(), 1);

  // Refused at once, far from its end: the server does not take it; no second refresh.
  const error = await provider.recover(rejected()).catch((e) => e);
  assert.ok(error instanceof NotAuthenticatedError, String(error));
  assert.match(error.message, /freshly refreshed/);
  assert.equal(refreshes(), 1, "no refresh for a token that is surely valid");

  // The retry went out late on a loaded machine: within the last second of its believed
  // lifetime, where the server's whole-second expiry may already have passed.
  const { expiresAt } = (await world.store.load("demo", world.mcp.url))!.tokens!;
  now = expiresAt! - 500;
  assert.equal(await provider.recover(rejected()), true, "refreshed again, not a login error");
  const next = await provider.headers();
  assert.notDeepEqual(next, fresh);
  assert.equal(refreshes(), 2);

  // The newest token refused at once is again a hard failure: one refresh per refusal, bounded.
  await assert.rejects(provider.recover(rejected()), NotAuthenticatedError);
  assert.equal(refreshes(), 2);
});

Deno.test("a refreshed token refused after another process renewed it retries with the newer token", async () => {
  await using world = await startWorld({ accessTokenTtlSeconds: 2 });
  await login(world);
  const now = Date.now();
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: quiet(),
    now: () => now,
  });
  await provider.headers();
  assert.equal(await provider.recover(rejected()), true);
  const fresh = await provider.headers();
  // Another gateway refreshes meanwhile (its clock says the token is due).
  const other = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: quiet(),
    now: () => now + 1900,
  });
  const newer = await other.headers();
  assert.notDeepEqual(newer, fresh);
  const refreshes = world.as.counters.tokenByGrant.refresh_token;

  assert.equal(await provider.recover(rejected()), true, "the newer token is worth a try");
  assert.deepEqual(await provider.headers(), newer);
  assert.equal(world.as.counters.tokenByGrant.refresh_token, refreshes, "no refresh of its own");
});

Deno.test("a late 401 on a request that carried the token before the last refresh reuses the refreshed token", async () => {
  await using world = await startWorld({ accessTokenTtlSeconds: 2 });
  await login(world);
  const now = Date.now();
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: quiet(),
    now: () => now,
  });
  // Two requests go out with the same token; the first one's 401 refreshes it.
  const first = await provider.headers();
  const second = await provider.headers();
  assert.equal(await provider.recover(rejected(), undefined, first), true);
  const fresh = await provider.headers(); // a third request, with the new token
  assert.notDeepEqual(fresh, first);
  // The second request's 401 arrives now: it refused the old token, not the fresh one.
  assert.equal(await provider.recover(rejected(), undefined, second), true);
  assert.deepEqual(await provider.headers(), fresh);
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1, "one refresh for both");
});
