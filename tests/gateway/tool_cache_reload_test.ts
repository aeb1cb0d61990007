/**
 * Issue 18 follow-up: a reload that drops a server from the config deletes its cached tool list
 * (`$TOOLSCRIPT_HOME/cache/<server>.tools.json`); one that only disables it keeps the list, so
 * re-enabling shows the tools at once. Real gateways (createGateway, the file cache) in front of
 * real HTTP fixtures, on real files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { validateConfig } from "../../src/config/validate_config.ts";
import { createGateway } from "../../src/gateway/create_gateway.ts";
import { exists, makeScratchDir } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";

function configOf(servers: Record<string, object>) {
  return validateConfig({ mcpServers: servers }, { source: "flag", env: () => undefined });
}

Deno.test("a reload deletes the cached tools of a server it removes, and keeps those of a server it disables", async () => {
  await using dir = await makeScratchDir();
  await using alphaServer = await startHttpMcpServer({ name: "alpha" });
  await using betaServer = await startHttpMcpServer({ name: "beta" });
  const alpha = { type: "http", url: alphaServer.url };
  const beta = { type: "http", url: betaServer.url };
  const cache = (server: string) => join(dir.path, "cache", `${server}.tools.json`);

  // A first run leaves both lists on disk (close waits for the cache writes).
  const first = createGateway(configOf({ alpha, beta }), { home: dir.path });
  await first.start();
  await first.close();
  assert.ok(await exists(cache("alpha")), "alpha's tools were cached");
  assert.ok(await exists(cache("beta")), "beta's tools were cached");

  await using gateway = createGateway(configOf({ alpha, beta }), { home: dir.path });
  await gateway.start();
  const disabled = await gateway.reload(configOf({ alpha, beta: { ...beta, enabled: false } }));
  assert.deepEqual(disabled.removed, ["beta"]);
  assert.ok(await exists(cache("beta")), "a disabled server keeps its cached tools");

  const removed = await gateway.reload(configOf({ alpha }));
  assert.deepEqual(removed.removed, [], "beta had no upstream left to close");
  assert.equal(await exists(cache("beta")), false, "a removed server's cached tools are gone");
  assert.ok(await exists(cache("alpha")), "the other server's cache stays");

  // Removed while running: the upstream closes and its list goes, even with a save under way.
  await gateway.reload(configOf({ alpha, beta }));
  assert.ok(gateway.listTools().some((t) => t.name.startsWith("beta__")), "beta is back");
  const gone = await gateway.reload(configOf({ alpha }));
  assert.deepEqual(gone.removed, ["beta"]);
  assert.equal(await exists(cache("beta")), false, "removed while connected: deleted too");
  await gateway.close();
  assert.equal(await exists(cache("beta")), false, "no late write brought it back");
  assert.ok(await exists(cache("alpha")));
});
