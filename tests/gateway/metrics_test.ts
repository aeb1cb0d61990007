import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CliProcess, makeScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";
import { startOAuthServer } from "../fixtures/oauth_server.ts";
import { canary, secretClient, writeSecretFile } from "../machine/_machine.ts";
import { type MetricFamily, parsePrometheusText, sampleValue } from "./_prometheus_text.ts";

async function startGateway(
  config: string,
  home: { path: string },
  env: Record<string, string> = {},
): Promise<{ process: CliProcess; url: URL }> {
  const process = spawnCli(["gateway", "--config", config, "--port", "0"], { home, env });
  const [, url] = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  return { process, url: new URL(url) };
}

async function connect(url: URL, headers: Record<string, string> = {}) {
  const client = new Client({ name: "metrics-spec", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  await client.connect(transport);
  return Object.assign(client, { http: transport, [Symbol.asyncDispose]: () => client.close() });
}

async function scrape(
  url: URL,
  headers: Record<string, string> = {},
): Promise<{ text: string; families: Map<string, MetricFamily> }> {
  const response = await fetch(new URL("/metrics", url), { headers });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  return { text, families: parsePrometheusText(text) };
}

Deno.test("GET /metrics counts calls, failures and sessions of a running gateway, and holds no secret", async () => {
  await using dir = await makeScratchDir();
  const gatewayToken = canary("gateway-token");
  const bearer = canary("bearer");
  const argument = canary("argument");
  await using web = await startHttpMcpServer({
    name: "web",
    auth: {
      verify: (token) => Promise.resolve(token === bearer ? { scopes: [] } : undefined),
    },
  });
  const config = await writeConfig(dir, {
    mcpServers: {
      local: { ...stdioServerCommand() },
      web: { type: "http", url: web.url, auth: { type: "bearer", token: bearer } },
    },
  });
  const gateway = await startGateway(config, dir, { TOOLSCRIPT_GATEWAY_TOKEN: gatewayToken });
  await using _gateway = gateway.process;
  const auth = { authorization: `Bearer ${gatewayToken}` };

  const refused = await fetch(new URL("/metrics", gateway.url));
  assert.equal(refused.status, 401, "the gateway token is required, as on /mcp");
  await refused.body?.cancel();

  await using client = await connect(gateway.url, auth);
  const ok1 = await client.callTool({ name: "local__echo", arguments: { text: argument } });
  assert.notEqual(ok1.isError, true);
  await client.callTool({ name: "local__echo", arguments: { text: "again" } });
  const failed = await client.callTool({ name: "local__fail", arguments: {} });
  assert.equal(failed.isError, true);
  await client.callTool({ name: "web__echo", arguments: { text: argument } });
  await assert.rejects(
    client.callTool({ name: `local__${argument}`, arguments: {} }),
    (error: { code?: number }) => error.code === -32602,
  );

  const { text, families } = await scrape(gateway.url, auth);
  const calls = (server: string, tool: string, outcome: string) =>
    sampleValue(families, "toolscript_tool_calls_total", { server, tool, outcome });
  assert.equal(calls("local", "echo", "ok"), 2);
  assert.equal(calls("local", "fail", "error"), 1);
  assert.equal(calls("web", "echo", "ok"), 1);
  assert.equal(calls("(unknown)", "(unknown)", "failed"), 1);
  const duration = (server: string, le?: string) =>
    le === undefined
      ? sampleValue(families, "toolscript_tool_call_duration_seconds_count", { server })
      : sampleValue(families, "toolscript_tool_call_duration_seconds_bucket", { server, le });
  assert.equal(duration("local"), 3);
  assert.equal(duration("local", "+Inf"), 3);
  assert.equal(duration("web"), 1);
  assert.equal(families.get("toolscript_tool_call_duration_seconds")?.type, "histogram");
  assert.equal(sampleValue(families, "toolscript_upstream_up", { server: "local" }), 1);
  assert.equal(sampleValue(families, "toolscript_upstream_up", { server: "web" }), 1);
  assert.equal(sampleValue(families, "toolscript_sessions_open"), 1);
  for (const secret of [gatewayToken, bearer, argument]) {
    assert.ok(!text.includes(secret), "a secret or argument value reached /metrics");
  }
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.labels.tool !== undefined) {
        assert.ok(["echo", "fail", "(unknown)"].includes(sample.labels.tool), sample.labels.tool);
      }
    }
  }

  await client.http.terminateSession(); // DELETE: answered once the session has closed
  const after = (await scrape(gateway.url, auth)).families;
  assert.equal(sampleValue(after, "toolscript_sessions_open"), 0);
});

Deno.test("GET /metrics counts client_credentials token requests, obtained and refused", async () => {
  await using dir = await makeScratchDir();
  const clientId = canary("client-id");
  const secret = canary("client-secret");
  await using as = await startOAuthServer({
    scopes: ["mcp:tools:execute"],
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
  const machine = (secretFile: string) => ({
    type: "http",
    url: mcp.url,
    auth: {
      type: "client_credentials",
      tokenUrl: as.tokenEndpoint,
      clientIdFile: clientIdPath,
      clientSecretFile: secretFile,
      scopes: ["mcp:tools:execute"],
    },
  });
  const clientIdPath = await writeSecretFile(dir.path, "id", clientId);
  const config = await writeConfig(dir, {
    mcpServers: {
      internal: machine(await writeSecretFile(dir.path, "secret", secret)),
      refused: machine(await writeSecretFile(dir.path, "wrong", canary("wrong-secret"))),
    },
  });
  const gateway = await startGateway(config, dir);
  await using _gateway = gateway.process;
  await using client = await connect(gateway.url);
  const result = await client.callTool({ name: "internal__echo", arguments: { text: "hi" } });
  assert.notEqual(result.isError, true, JSON.stringify(result));

  const { text, families } = await scrape(gateway.url);
  const tokens = (server: string, outcome: string) =>
    sampleValue(families, "toolscript_token_requests_total", {
      server,
      grant: "client_credentials",
      outcome,
    });
  assert.ok((tokens("internal", "ok") ?? 0) >= 1, text);
  assert.equal(tokens("internal", "error"), undefined);
  assert.ok((tokens("refused", "error") ?? 0) >= 1, text);
  assert.equal(tokens("refused", "ok"), undefined);
  assert.equal(sampleValue(families, "toolscript_upstream_up", { server: "internal" }), 1);
  assert.equal(sampleValue(families, "toolscript_upstream_up", { server: "refused" }), 0);
  for (const value of [clientId, secret]) assert.ok(!text.includes(value), "secret in /metrics");
});
