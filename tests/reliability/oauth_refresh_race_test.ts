import assert from "node:assert/strict";
import { join } from "node:path";
import { login, startWorld } from "../oauth/_world.ts";
import { spawnScript } from "./_child.ts";

const ROUNDS = 50;

Deno.test("two processes refreshing the same OAuth credentials never trip refresh-token reuse", async () => {
  // The AS rotates refresh tokens and revokes the whole grant when an old one is reused.
  await using world = await startWorld();
  await login(world);
  const script = join(import.meta.dirname!, "_oauth_refresher.ts");
  const dir = join(world.home, "credentials");
  await using a = spawnScript(script, [dir, world.mcp.url, String(ROUNDS)]);
  await using b = spawnScript(script, [dir, world.mcp.url, String(ROUNDS)]);
  await Promise.all([a.send("go"), b.send("go")]);
  const [outA, outB] = await Promise.all([a.waitForLine(/^done$/), b.waitForLine(/^done$/)])
    .then(() => Promise.all([a.status, b.status]))
    .then(() => [a, b].map((child) => child.stderr()));
  assert.equal(outA + outB, "", "children wrote nothing to stderr");
  for (const child of [a, b]) {
    await assert.rejects(child.waitForLine(/^error /)); // no round failed
  }
  const refreshes = world.as.counters.tokenByGrant.refresh_token ?? 0;
  assert.ok(refreshes >= ROUNDS, `only ${refreshes} refreshes`);
  const doc = await world.store.load("demo", world.mcp.url);
  const verified = await world.as.verifyAccessToken(doc!.tokens!.accessToken);
  assert.ok(verified, "the final stored access token is valid at the AS");
});
