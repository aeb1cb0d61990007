import assert from "node:assert/strict";
import { makeScratchDir } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { validateConfig } from "../../src/config/validate_config.ts";
import { createGateway } from "../../src/gateway/create_gateway.ts";

Deno.test("failed connects of a server that needs a login signal a change once, not per attempt", async () => {
  await using dir = await makeScratchDir();
  await using server = await startHttpMcpServer({
    auth: { verify: () => Promise.resolve(undefined) },
  });
  const config = validateConfig(
    { mcpServers: { locked: { type: "http", url: server.url, auth: { type: "oauth" } } } },
    { source: "flag", env: () => undefined },
  );
  await using gateway = createGateway(config, { home: dir.path });
  let changes = 0;
  gateway.onChange(() => changes++);
  await gateway.start();
  const upstream = gateway.upstreams.get("locked")!;
  assert.equal(upstream.state, "needs-auth");
  assert.equal(changes, 1, "the placeholder tool appeared");
  for (let i = 0; i < 3; i++) await upstream.reconnect();
  assert.equal(upstream.state, "needs-auth");
  assert.equal(changes, 1, "nothing changed for clients");
  assert.deepEqual(gateway.listTools().map((t) => t.name), ["locked__authenticate"]);
});
