import assert from "node:assert/strict";
import { dirname } from "node:path";
import { NotAuthenticatedError } from "../../src/errors.ts";
import { renderFix } from "../../src/fix_command.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { authorizationUrlOf, connectWith, login, spawnAuth, startWorld, textOf } from "./_world.ts";
import { completeAuthorizeUrl } from "../fixtures/oauth_server.ts";

Deno.test("auth logs in through the browser, stores 0600 credentials and the gateway provider uses them", async () => {
  await using world = await startWorld();
  await using cli = spawnAuth(world);
  const url = new URL(await authorizationUrlOf(cli));
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.equal(url.searchParams.get("resource"), world.mcp.url);
  assert.equal(url.searchParams.get("scope"), "mcp:tools");
  const page = await completeAuthorizeUrl(url.href);
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /Authorized/);
  assert.doesNotMatch(html, /code=/);
  assert.equal((await cli.status).code, 0, cli.stderr());
  assert.equal(cli.stdout(), "Authenticated demo\n");

  assert.equal((await Deno.stat(world.credentialFile)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(dirname(world.credentialFile))).mode! & 0o777, 0o700);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.equal(doc?.client?.registration, "dynamic");
  assert.ok(doc?.tokens?.refreshToken);
  assert.ok(doc.tokens.expiresAt! > Date.now());
  // The PKCE verifier and the state lived only in the login's memory: none reached the file.
  const stored = await Deno.readTextFile(world.credentialFile);
  assert.ok(!stored.includes(url.searchParams.get("state")!), "no state in the file");
  assert.doesNotMatch(stored, /verifier/i);
  assert.equal(world.as.counters.register, 1);

  const provider = new OAuthCredentialProvider(world.server, { store: world.store });
  await using client = await connectWith(world, provider);
  const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
  assert.equal(textOf(result), "echo: hi");
  assert.deepEqual((await provider.status()).state, "ok");
});

Deno.test("the provider refreshes an expired token with exactly one token request", async () => {
  await using world = await startWorld();
  await login(world);
  const before = world.as.counters.token;
  const later = () => Date.now() + 2 * 3600_000; // the stored token expired an hour ago
  const provider = new OAuthCredentialProvider(world.server, { store: world.store, now: later });
  await using client = await connectWith(world, provider);
  assert.equal(
    textOf(await client.callTool({ name: "echo", arguments: { text: "a" } })),
    "echo: a",
  );
  assert.equal(world.as.counters.token - before, 1);
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(doc?.tokens?.refreshToken, "a rotated refresh token is stored");
});

Deno.test("a grant revoked at the authorization server asks for the exact auth command", async () => {
  await using world = await startWorld();
  await login(world);
  await world.as.revokeAll();
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: new Logger({ level: "error", write: () => {} }),
  });
  const error = await connectWith(world, provider).then(
    async (client) => {
      await client.close();
      return undefined;
    },
    (e) => e,
  );
  const found = findCause(error, NotAuthenticatedError);
  assert.ok(found, `expected NotAuthenticatedError, got ${error}`);
  assert.deepEqual(found.login, { server: "demo" });
  assert.equal(
    renderFix(found, { configPath: world.configPath }),
    `toolscript auth demo --config ${world.configPath}`,
  );
  const doc = await world.store.load("demo", world.mcp.url);
  assert.equal(doc?.tokens, undefined, "invalid_grant clears the tokens");
  assert.ok(doc?.client, "the client registration is kept");
  assert.equal((await provider.status()).state, "needs-auth");
});

function findCause<T extends Error>(
  error: unknown,
  type: new (...args: never[]) => T,
): T | undefined {
  for (let e = error; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof type) return e;
  }
  return undefined;
}
