import assert from "node:assert/strict";
import { completeAuthorizeUrl } from "../fixtures/oauth_server.ts";
import type { CliProcess } from "../_helpers.ts";
import { authorizationUrlOf, freePort, spawnAuth, startWorld } from "./_world.ts";

Deno.test("two auth processes at once take turns and leave one valid credential", async () => {
  await using world = await startWorld();
  // A pinned port: the default ones may be taken by parallel specs between the two logins.
  const port = freePort();
  await using first = spawnAuth(world, ["--callback-port", String(port)]);
  await using second = spawnAuth(world, ["--callback-port", String(port)]);
  // Only the process holding the lock prints its URL; the other waits for it to finish.
  const complete = async (cli: CliProcess) => {
    const page = await completeAuthorizeUrl(await authorizationUrlOf(cli));
    await page.body?.cancel();
    return (await cli.status).code;
  };
  const codes = await Promise.all([complete(first), complete(second)]);
  assert.deepEqual(codes, [0, 0], first.stderr() + second.stderr());
  assert.equal(first.stdout() + second.stdout(), "Authenticated demo\nAuthenticated demo\n");

  const doc = await world.store.load("demo", world.mcp.url);
  const verified = await world.as.verifyAccessToken(doc!.tokens!.accessToken);
  assert.ok(verified, "the stored access token is valid");
  assert.equal(verified.clientId, doc!.client!.clientId);
  assert.equal(world.as.counters.tokenByGrant.authorization_code, 2);
  assert.equal(world.as.counters.register, 1, "the second login reuses the registration");
});
