/**
 * Issue 12 item 11: an upstream that echoes the credential the gateway sent it (a `tokenFile`
 * bearer, an API key header) must not hand it to the gateway's clients, in any form.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { makeScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import { startEchoSecretsServer } from "../fixtures/echo_secrets_server.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { Redactor } from "../../src/log.ts";
import { maskSecrets } from "../../src/gateway/mask_secrets.ts";

const BEARER = `bearer/canary-${crypto.randomUUID()}`;
const API_KEY = `api-"key"\\canary/${crypto.randomUUID()}`;

/** Every form in which a canary could leave: raw, JSON-escaped, `\/` and `\uXXXX` escaped. */
function forms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, json, json.replaceAll("/", "\\/"), secret.replaceAll("/", "\\/")])];
}

function assertNoCanary(what: string, text: string): void {
  for (const secret of [BEARER, API_KEY]) {
    for (const form of forms(secret)) {
      assert.ok(!text.includes(form), `${what} contains a canary form ${JSON.stringify(form)}`);
    }
    // The distinctive part alone (the UUID) must not survive either.
    assert.ok(!text.includes(secret.slice(-36)), `${what} contains a canary's UUID`);
  }
}

async function startGateway() {
  const dir = await makeScratchDir();
  const echo = await startEchoSecretsServer();
  const demo = await startHttpMcpServer({ name: "demo" });
  const tokenFile = join(dir.path, "token");
  await Deno.writeTextFile(tokenFile, BEARER + "\n", { mode: 0o600 });
  const config = await writeConfig(dir, {
    mcpServers: {
      echo: {
        type: "http",
        url: echo.url,
        headers: { "X-API-Key": API_KEY },
        auth: { type: "bearer", tokenFile },
      },
      demo: { type: "http", url: demo.url },
    },
  });
  const process = spawnCli(["gateway", "--config", config, "--port", "0"], {
    home: dir,
    env: { TOOLSCRIPT_LOG: "debug" },
  });
  const url = (await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/))[1];
  const client = new Client({ name: "result-secrets-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return {
    client,
    process,
    async [Symbol.asyncDispose]() {
      await client.close();
      await process[Symbol.asyncDispose]();
      await demo.close();
      await echo.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("an upstream echoing its bearer token and API key never gets them to the client", async () => {
  await using env = await startGateway();
  const echoed = await env.client.callTool({ name: "echo__echo_credentials", arguments: {} });
  const text = JSON.stringify(echoed);
  assertNoCanary("the tool result", text);
  // The call itself worked: the upstream did get the credentials and answered.
  assert.equal(echoed.isError, undefined);
  assert.match(text, /\[redacted:[0-9a-f]{8}\]/);
  const structured = echoed.structuredContent as Record<string, unknown>;
  assert.match(String(structured.authorization), /^Bearer \[redacted:[0-9a-f]{8}\]$/);

  const failed = await env.client.callTool({ name: "echo__fail_with_credentials", arguments: {} });
  assert.equal(failed.isError, true);
  assertNoCanary("the isError result", JSON.stringify(failed));

  const rejected = await env.client.callTool({
    name: "echo__reject_with_credentials",
    arguments: {},
  })
    .then(() => undefined, (error: unknown) => error);
  assert.ok(rejected instanceof McpError, String(rejected));
  assertNoCanary("the JSON-RPC error", `${rejected.message} ${JSON.stringify(rejected.data)}`);

  assertNoCanary("the gateway's stdout", env.process.stdout());
  assertNoCanary("the gateway's stderr", env.process.stderr());
});

Deno.test("results without configured secrets pass unchanged, Bearer-like text included", async () => {
  await using env = await startGateway();
  const text = "Bearer not-a-secret and token=plain-value";
  const result = await env.client.callTool({ name: "demo__echo", arguments: { text } });
  assert.deepEqual(result.content, [{ type: "text", text: `echo: ${text}` }]);
  const sum = await env.client.callTool({ name: "demo__add", arguments: { a: 2, b: 3 } });
  assert.deepEqual(sum.structuredContent, { sum: 5 });
});

Deno.test("maskSecrets() cleans prompt messages, resource contents and keys, to any depth", () => {
  const redactor = new Redactor();
  assert.equal(maskSecrets("untouched", redactor), "untouched", "no secret: nothing to do");
  redactor.addSecret(API_KEY);
  const escaped = JSON.stringify(API_KEY).slice(1, -1);
  const prompt = {
    messages: [{ role: "user", content: { type: "text", text: `key ${API_KEY}` } }],
  };
  const resource = { contents: [{ uri: "echo://x", text: `{"k":"${escaped}"}` }] };
  const keyed = { [API_KEY]: 1 };
  const masked = JSON.stringify(maskSecrets({ prompt, resource, keyed }, redactor));
  for (const form of forms(API_KEY)) assert.ok(!masked.includes(form), form);
  assert.ok(masked.includes("[redacted:"));

  let deep: unknown = API_KEY;
  for (let i = 0; i < 20_000; i++) deep = [deep];
  maskSecrets(deep, redactor);
  let inner = deep;
  while (Array.isArray(inner)) inner = inner[0];
  assert.match(String(inner), /^\[redacted:[0-9a-f]{8}\]$/);
});
