import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { makeScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { startOAuthServer } from "../fixtures/oauth_server.ts";
import { canary, secretClient, writeSecretFile } from "./_machine.ts";

const LIFETIME_SECONDS = 2;
const LIFETIMES = 3;
/** The config default of `refreshAt`. */
const REFRESH_AT = 0.8;

Deno.test("a gateway with client_credentials from secret files keeps serving across token lifetimes", async () => {
  await using dir = await makeScratchDir();
  const clientId = canary("client-id");
  const secret = canary("client-secret");
  await using as = await startOAuthServer({
    scopes: ["mcp:tools:execute"],
    accessTokenTtlSeconds: LIFETIME_SECONDS,
    clients: [secretClient(clientId, secret)],
  });
  await using mcp = await startHttpMcpServer({
    name: "internal",
    auth: {
      verify: async (token) => {
        const info = await as.verifyAccessToken(token);
        return info ? { scopes: info.scopes } : undefined;
      },
    },
  });
  const config = await writeConfig(dir, {
    mcpServers: {
      internal: {
        type: "http",
        url: mcp.url,
        auth: {
          type: "client_credentials",
          tokenUrl: as.tokenEndpoint,
          clientIdFile: await writeSecretFile(dir.path, "id", clientId),
          clientSecretFile: await writeSecretFile(dir.path, "secret", secret),
          scopes: ["mcp:tools:execute"],
        },
      },
    },
  });
  await using gateway = spawnCli(["gateway", "--config", config, "--port", "0"], {
    home: dir,
    env: { TOOLSCRIPT_LOG: "debug" },
  });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  // The gateway obtained its first token while starting.
  const started = performance.now();
  const client = new Client({ name: "machine-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    const deadline = Date.now() + 30_000;
    let calls = 0;
    // Waves of 16 concurrent calls until the AS has issued tokens across several lifetimes.
    while (as.counters.token < LIFETIMES + 1 && Date.now() < deadline && calls < 20_000) {
      const results = await Promise.all(
        Array.from(
          { length: 16 },
          (_, i) => client.callTool({ name: "internal__echo", arguments: { text: `c${i}` } }),
        ),
      );
      for (const result of results) assert.notEqual(result.isError, true, JSON.stringify(result));
      calls += results.length;
    }
    const tokens = as.counters.token;
    assert.ok(tokens >= LIFETIMES + 1, `only ${tokens} token requests`);
    // Proactive refresh: one token per refresh window (80 % of a lifetime) since the gateway
    // started, plus the first (and one of slack for where in its window the first one fell); one
    // per call or per 401 would reach the loop's goal in far fewer windows. The bound grows with
    // the time taken, so a slow machine only widens it.
    const windows = (performance.now() - started) / (REFRESH_AT * LIFETIME_SECONDS * 1000);
    assert.ok(
      tokens <= Math.ceil(windows) + 2,
      `${tokens} tokens in ${windows.toFixed(1)} refresh windows (${calls} calls)`,
    );
  } finally {
    await client.close();
  }
  gateway.kill("SIGTERM");
  await gateway.status;
  const output = gateway.stdout() + gateway.stderr();
  for (const value of [clientId, secret]) assert.ok(!output.includes(value), "secret in output");
});
