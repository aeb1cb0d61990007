/**
 * Credential faults seen through the gateway: a token endpoint that rejects the client or is
 * down when a new token is needed, an OAuth server never logged in to, a corrupted credential
 * file, a rejected `TOOLSCRIPT_TOKEN_<SERVER>`. Each case checks the error names the server and
 * what to do, and that the other servers keep working.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeConfig } from "../_helpers.ts";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../fixtures/http_server.ts";
import { type OAuthServerHandle, startOAuthServer } from "../fixtures/oauth_server.ts";
import type { FaultCase, FaultLog } from "./_fault_log.ts";
import { type GatewayUnderTest, startGateway, textOf, type ToolResult } from "./_gateway_client.ts";

/** What the auth fault cases work with. `await using` stops it all. */
export interface AuthBench extends AsyncDisposable {
  gateway: GatewayUnderTest;
  as: OAuthServerHandle;
  mcp: HttpMcpServerHandle;
  configPath: string;
  /** The credential file of server `corrupt`. */
  corruptFile: string;
}

const SCOPE = "mcp:tools";

/** Writes `text` to `<dir>/<name>`, mode 0600. */
async function secretFile(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, `${text}\n`, { mode: 0o600 });
  return path;
}

/**
 * Starts an authorization server with one client_credentials client, an MCP server that
 * accepts only its tokens, and a gateway with servers `machine` (good client secret),
 * `wrongsecret`, `oauthy` (OAuth, never logged in), `corrupt` (OAuth, unreadable credential
 * file) and `envtok` (a rejected `TOOLSCRIPT_TOKEN_ENVTOK`).
 */
export async function openAuthBench(dir: string, log: FaultLog): Promise<AuthBench> {
  const clientId = log.canary("client-id");
  const clientSecret = log.canary("client-secret");
  const as = await startOAuthServer({
    scopes: [SCOPE],
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_basic",
    }],
  });
  const mcp = await startHttpMcpServer({
    name: "internal",
    auth: {
      verify: async (token) => {
        const info = await as.verifyAccessToken(token);
        return info ? { scopes: info.scopes } : undefined;
      },
    },
  });
  try {
    const machine = (clientSecretFile: string) => ({
      type: "http",
      url: mcp.url,
      auth: {
        type: "client_credentials",
        tokenUrl: as.tokenEndpoint,
        clientId,
        clientSecretFile,
        scopes: [SCOPE],
      },
    });
    const goodSecret = await secretFile(dir, "good.secret", clientSecret);
    const wrongSecret = await secretFile(dir, "wrong.secret", log.canary("wrong-secret"));
    const configPath = await writeConfig(dir, {
      mcpServers: {
        machine: machine(goodSecret),
        wrongsecret: machine(wrongSecret),
        oauthy: { type: "http", url: mcp.url, auth: { type: "oauth" } },
        corrupt: { type: "http", url: mcp.url, auth: { type: "oauth" } },
        envtok: { type: "http", url: mcp.url },
      },
    });
    const credentials = join(dir, "credentials");
    await Deno.mkdir(credentials, { mode: 0o700 });
    const corruptFile = join(credentials, "corrupt.json");
    await Deno.writeTextFile(
      corruptFile,
      `{"version":1,"server":"corrupt","tokens":{"accessToken":"${log.canary("stored-token")}"`,
      { mode: 0o600 },
    );
    const gateway = await startGateway({
      configPath,
      home: dir,
      gatewayToken: log.canary("gateway"),
      log,
      label: "auth faults",
      env: { TOOLSCRIPT_TOKEN_ENVTOK: log.canary("env-token") },
    });
    return {
      gateway,
      as,
      mcp,
      configPath,
      corruptFile,
      async [Symbol.asyncDispose]() {
        const status = await gateway.stop();
        await mcp.close();
        await as.close();
        assert.equal(
          status.code,
          0,
          `the gateway did not stop cleanly:\n${gateway.process.stderr()}`,
        );
      },
    };
  } catch (error) {
    await mcp.close();
    await as.close();
    throw error;
  }
}

/** Asserts an error result naming `server` and matching `pattern`. */
function assertFailed(result: ToolResult, server: string, pattern: RegExp): void {
  const text = textOf(result);
  assert.equal(result.isError, true, `expected an error result, got: ${text.slice(0, 300)}`);
  assert.match(text, new RegExp(`server "${server}"`, "i"), `names the server: ${text}`);
  assert.match(text, pattern, text);
}

/** The auth fault cases, in order. */
export const AUTH_FAULTS: FaultCase<AuthBench>[] = [
  {
    name: "a client_credentials server gets a token from its secret file and answers",
    async run({ gateway, as }) {
      await gateway.assertEchoes("machine__echo");
      assert.ok((as.counters.tokenByGrant.client_credentials ?? 0) > 0, "a token was issued");
    },
  },
  {
    name: "a token endpoint that rejects the client fails calls naming the server and settings",
    async run({ gateway }) {
      assertFailed(await gateway.call("wrongsecret__echo", { text: "x" }), "wrongsecret", /client/);
      await gateway.assertEchoes("machine__echo");
    },
  },
  {
    name: "a token endpoint that is down when a token is rejected fails the call, then recovers",
    async run({ gateway, as }) {
      await as.revokeAll();
      as.failTokenRequests(1, 503, { retryAfterSeconds: 3600 });
      const result = await gateway.call("machine__echo", { text: "x" });
      assertFailed(result, "machine", /503|unavailable|temporar/i);
      await gateway.assertEchoes("machine__echo");
    },
  },
  {
    name: "an OAuth server never logged in to names the exact auth command",
    async run({ gateway, configPath }) {
      const result = await gateway.call("oauthy__echo", { text: "x" });
      assertFailed(result, "oauthy", /.+/);
      assert.ok(
        textOf(result).includes(`toolscript auth oauthy --config ${configPath}`),
        textOf(result),
      );
    },
  },
  {
    name: "a corrupted credential file fails calls naming the file, never its content",
    async run({ gateway, corruptFile }) {
      const result = await gateway.call("corrupt__echo", { text: "x" });
      const text = textOf(result);
      assert.equal(result.isError, true, text);
      assert.ok(text.includes(corruptFile), `names the file: ${text}`);
      await gateway.assertEchoes("machine__echo");
    },
  },
  {
    name: "a corrupted credential file names the server and the login that replaces it",
    async run({ gateway, corruptFile }) {
      const result = await gateway.call("corrupt__echo", { text: "x" });
      assertFailed(result, "corrupt", /toolscript auth corrupt\b/);
      assert.ok(!textOf(result).includes(`rm '${corruptFile}'`), textOf(result));
    },
  },
  {
    name: "a rejected TOOLSCRIPT_TOKEN_<SERVER> fails calls naming the server, not the token",
    async run({ gateway }) {
      assertFailed(await gateway.call("envtok__echo", { text: "x" }), "envtok", /401|reject/i);
      await gateway.assertEchoes("machine__echo");
    },
  },
  {
    name: "a rejected TOOLSCRIPT_TOKEN_<SERVER> names the variable to check",
    async run({ gateway }) {
      assertFailed(await gateway.call("envtok__echo", { text: "x" }), "envtok", /TOKEN_ENVTOK/);
    },
  },
];
