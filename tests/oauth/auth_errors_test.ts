import assert from "node:assert/strict";
import { spawnAuth, startWorld } from "./_world.ts";

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
