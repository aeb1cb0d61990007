import assert from "node:assert/strict";
import { completeAuthorizeUrl } from "../fixtures/oauth_server.ts";
import type { CliProcess } from "../_helpers.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { authorizationUrlOf, freePort, login, spawnAuth, startWorld } from "./_world.ts";

const rejected = () =>
  new Response(null, {
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
  });

/** "running" while `cli` has not exited, else "exited" (no waiting). */
async function stateOf(cli: CliProcess): Promise<"running" | "exited"> {
  return await Promise.race([
    cli.status.then(() => "exited" as const),
    Promise.resolve("running" as const),
  ]);
}

Deno.test("two auth processes at once both finish and leave one valid credential", async () => {
  await using world = await startWorld();
  // Pinned ports: the default ones may be taken by parallel specs between the two logins.
  await using first = spawnAuth(world, ["--callback-port", String(freePort())]);
  await using second = spawnAuth(world, ["--callback-port", String(freePort())]);
  // Both wait for the browser at the same time: neither holds the lock meanwhile.
  const urls = await Promise.all([authorizationUrlOf(first), authorizationUrlOf(second)]);
  const complete = async (cli: CliProcess, url: string) => {
    const page = await completeAuthorizeUrl(url);
    await page.body?.cancel();
    return (await cli.status).code;
  };
  const codes = [await complete(second, urls[1]), await complete(first, urls[0])];
  assert.deepEqual(codes, [0, 0], first.stderr() + second.stderr());
  assert.equal(first.stdout() + second.stdout(), "Authenticated demo\nAuthenticated demo\n");

  const doc = await world.store.load("demo", world.mcp.url);
  const verified = await world.as.verifyAccessToken(doc!.tokens!.accessToken);
  assert.ok(verified, "the stored access token is valid");
  assert.equal(verified.clientId, doc!.client!.clientId, "tokens and client of one login");
  assert.equal(world.as.counters.tokenByGrant.authorization_code, 2);
});

Deno.test("a gateway refreshes the server while `toolscript auth` waits for the browser", async () => {
  await using world = await startWorld();
  await login(world);
  await using cli = spawnAuth(world);
  const url = await authorizationUrlOf(cli);
  // The login now waits for the browser; a gateway's refresh must not wait for it.
  const gateway = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: new Logger({ level: "error", write: () => {} }),
    // Bounds the spec when the login does hold the lock: the refresh then fails, not stalls.
    lockTimeoutMs: 20_000,
  });
  const before = await gateway.headers();
  assert.equal(await gateway.recover(rejected()), true, "the refresh went through");
  const after = await gateway.headers();
  assert.notDeepEqual(after, before);
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1);
  assert.equal(await stateOf(cli), "running", "the login is still waiting for the browser");

  const page = await completeAuthorizeUrl(url);
  await page.body?.cancel();
  assert.equal((await cli.status).code, 0, cli.stderr());
  const doc = await world.store.load("demo", world.mcp.url);
  assert.notEqual(
    `Bearer ${doc!.tokens!.accessToken}`,
    after.Authorization,
    "the login's tokens win",
  );
  assert.ok(await world.as.verifyAccessToken(doc!.tokens!.accessToken));
});
