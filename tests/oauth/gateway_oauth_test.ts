import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { spawnCli } from "../_helpers.ts";
import { login, startWorld, textOf } from "./_world.ts";

async function startGateway(world: Awaited<ReturnType<typeof startWorld>>) {
  const process = spawnCli(["gateway", "--config", world.configPath, "--port", "0"], {
    home: world.home,
    env: { TOOLSCRIPT_LOG: "debug" },
  });
  const [, url] = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  const client = new Client({ name: "gateway-oauth-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return Object.assign(process, {
    client,
    url,
    async [Symbol.asyncDispose]() {
      await client.close();
      process.kill("SIGTERM");
      await process.status;
    },
  });
}

Deno.test("an unauthenticated OAuth server tells the model the exact command, then works after auth without a restart", async () => {
  await using world = await startWorld();
  await using gateway = await startGateway(world);
  const { client } = gateway;

  const listed = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(listed.includes("demo__authenticate"), `tools: ${listed}`);
  const before = await client.callTool({ name: "demo__authenticate", arguments: {} });
  assert.equal(before.isError, true);
  assert.match(textOf(before), new RegExp(`toolscript auth demo --config ${world.configPath}`));

  const changed = Promise.withResolvers<void>();
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.resolve());
  await login(world); // `toolscript auth demo` in another process
  await changed.promise; // the gateway noticed the new credentials by itself

  const tools = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(tools.includes("demo__echo"), `tools after login: ${tools}`);
  const result = await client.callTool({ name: "demo__echo", arguments: { text: "after" } });
  assert.equal(textOf(result), "echo: after");
});

Deno.test("stored OAuth credentials survive a gateway restart", async () => {
  await using world = await startWorld();
  await login(world);
  for (const round of [1, 2]) {
    await using gateway = await startGateway(world);
    const result = await gateway.client.callTool({
      name: "demo__echo",
      arguments: { text: `round ${round}` },
    });
    assert.equal(textOf(result), `echo: round ${round}`);
  }
  assert.equal(world.as.counters.tokenByGrant.authorization_code, 1, "one login only");
});

Deno.test("a grant revoked at the AS makes the gateway's call name the auth command", async () => {
  await using world = await startWorld();
  await login(world);
  await using gateway = await startGateway(world);
  const ok = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "x" } });
  assert.equal(textOf(ok), "echo: x");
  await world.as.revokeAll();
  const failed = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "y" } });
  assert.equal(failed.isError, true);
  assert.match(textOf(failed), /toolscript auth demo/);
});

Deno.test("a server without an auth block that starts answering 401 needs a login, on the call path as on connect", async () => {
  await using world = await startWorld({ auth: null });
  await login(world);
  await using gateway = await startGateway(world);
  const ok = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "x" } });
  assert.equal(textOf(ok), "echo: x");
  // A logout in another process, and the grant gone at the AS.
  await Deno.remove(world.credentialFile);
  await world.as.revokeAll();
  const failed = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "y" } });
  assert.equal(failed.isError, true);
  assert.match(textOf(failed), /toolscript auth demo/);
  assert.doesNotMatch(textOf(failed), /Streamable HTTP error|Error POSTing/);
  const health = await fetch(new URL("/health", gateway.url)).then((r) => r.json());
  assert.equal(health.servers[0].state, "needs-auth", JSON.stringify(health));
});
