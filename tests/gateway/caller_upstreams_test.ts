/**
 * CallerUpstreams.forget: the connections of callers a reload removed are closed, the others
 * stay, and a later call of a forgotten caller opens a new connection. A real HTTP MCP server
 * fixture is the upstream; each caller's credentials send its own name as the bearer token.
 */
import assert from "node:assert/strict";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { CallerUpstreams } from "../../src/gateway/caller_upstreams.ts";
import { validateConfig } from "../../src/config/validate_config.ts";
import { Logger } from "../../src/log.ts";
import type { CredentialProvider } from "../../src/auth/types.ts";

function callerCredentials(caller: string): CredentialProvider {
  return {
    headers: () => Promise.resolve({ authorization: `Bearer caller-${caller}` }),
    recover: () => Promise.resolve(false),
    status: () => Promise.resolve({ authType: "bearer", state: "ok" }),
  };
}

Deno.test("CallerUpstreams.forget() closes only the removed callers' connections", async () => {
  await using upstream = await startHttpMcpServer();
  const config = validateConfig(
    { mcpServers: { demo: { type: "http", url: upstream.url } } },
    { source: "flag", env: () => undefined },
  );
  const server = config.servers[0];
  const callers = new CallerUpstreams({
    logger: new Logger({ write: () => {} }),
    credentialsFor: (_server, caller) => callerCredentials(caller),
  });
  try {
    const alice = await callers.forCall(server, "alice");
    const bob = await callers.forCall(server, "bob");
    assert.equal(alice?.state, "ok");
    assert.equal(bob?.state, "ok");
    await callers.forget(["alice"]);
    assert.equal(alice.state, "closed", "alice's connection is closed");
    assert.equal(bob.state, "ok", "bob's stays");
    assert.equal(await callers.forCall(server, "bob"), bob);
    const again = await callers.forCall(server, "alice");
    assert.notEqual(again, alice, "a forgotten caller's next call opens a new connection");
    assert.equal(again?.state, "ok");
  } finally {
    await callers.close();
  }
});
