/**
 * DPoP (RFC 9449) end to end: the oidc-provider fixture with DPoP on issues DPoP-bound tokens
 * to `toolscript auth`, and the MCP fixture, behind a gate that checks each proof and the
 * token's key binding, accepts them only with a fresh proof by that key. Login, refresh, calls
 * through the gateway and `status`; a replayed proof and a stolen token are refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { calculateJwkThumbprint, generateKeyPair } from "jose";
import * as oauth from "oauth4webapi";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  initializeRequestBody,
  makeScratchDir,
  remoteServerConfig,
  runCli,
  spawnCli,
  writeConfig,
} from "../_helpers.ts";
import { startOAuthServer } from "../fixtures/oauth_server.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { dpopGate } from "../fixtures/dpop_gate.ts";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { connectWith, login, type OAuthWorld, textOf } from "./_world.ts";

/** An OAuthWorld whose AS binds tokens with DPoP and whose MCP server checks the binding. */
async function startDpopWorld(options: { auth?: Record<string, unknown>; rsNonce?: string } = {}) {
  const as = await startOAuthServer({ scopes: ["mcp:tools"], dpop: {} });
  let resource = "";
  const verified = (token: string) => as.verifyAccessToken(token);
  const { gate, log } = dpopGate({ binding: verified, nonce: options.rsNonce });
  const mcp = await startHttpMcpServer({
    gate: (request) => new URL(request.url).pathname === "/mcp" ? gate(request) : undefined,
    auth: {
      verify: async (token) => {
        const info = await verified(token);
        if (!info || info.resource?.href !== resource) return undefined;
        return { scopes: info.scopes };
      },
      authorizationServers: [as.issuer],
      requiredScopes: ["mcp:tools"],
      acceptDpopScheme: true,
    },
  });
  resource = mcp.url;
  const dir = await makeScratchDir();
  const home = join(dir.path, "home");
  const auth = options.auth ?? { type: "oauth" };
  const configPath = await writeConfig(dir, {
    mcpServers: { demo: { type: "http", url: mcp.url, auth } },
  });
  const server = remoteServerConfig(mcp.url, { auth: { type: "oauth" } });
  const world: OAuthWorld = {
    as,
    mcp,
    dir,
    home,
    configPath,
    server,
    store: new FileTokenStore({ dir: join(home, "credentials") }),
    credentialFile: join(home, "credentials", "demo.json"),
    async [Symbol.asyncDispose]() {
      await mcp.close();
      await as.close();
      await dir[Symbol.asyncDispose]();
    },
  };
  return Object.assign(world, { gateLog: log });
}

async function startGateway(world: OAuthWorld) {
  const process = spawnCli(["gateway", "--config", world.configPath, "--port", "0"], {
    home: world.home,
  });
  const [, url] = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  const client = new Client({ name: "dpop-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return Object.assign(process, {
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      process.kill("SIGTERM");
      await process.status;
    },
  });
}

/** The last request the MCP fixture accepted with a DPoP proof. */
function lastProofRequest(world: OAuthWorld) {
  const request = world.mcp.requests.findLast((r) => r.headers.dpop && r.path === "/mcp");
  assert.ok(request, "a request carried a DPoP proof");
  return request;
}

Deno.test("DPoP: a bound login, a refresh with the stored key and calls through the gateway", async () => {
  await using world = await startDpopWorld();
  await login(world);

  const doc = await world.store.load("demo", world.mcp.url);
  assert.equal(doc?.tokens?.tokenType, "DPoP");
  assert.ok(doc?.dpopKey?.jwk.d, "the key is kept beside the tokens");
  assert.equal((await Deno.stat(world.credentialFile)).mode! & 0o777, 0o600);
  const { d: _private, ...publicJwk } = doc.dpopKey.jwk;
  const thumbprint = await calculateJwkThumbprint(publicJwk as Record<string, string>);
  assert.equal((await world.as.verifyAccessToken(doc.tokens.accessToken))?.jkt, thumbprint);

  const status = await runCli(["status", "demo", "--json", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout)[0].dpop, true);
  const text = await runCli(["status", "demo", "--config", world.configPath], {
    home: world.home,
  });
  assert.match(text.stdout, /\tdpop(\t|$)/m);
  assert.ok(
    !status.stdout.includes(doc.dpopKey.jwk.d!) && !text.stdout.includes(doc.tokens.accessToken),
  );

  // A restarted gateway uses the stored key: calls go out with proofs the gate accepts.
  {
    await using gateway = await startGateway(world);
    const result = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "a" } });
    assert.equal(textOf(result), "echo: a");
  }
  assert.ok(world.gateLog.accepted > 0, "the gate accepted DPoP proofs");
  assert.deepEqual(world.gateLog.refusals, []);

  // Past the refresh point the provider refreshes, with a proof of the same key.
  const later = doc.tokens.expiresAt! + 1000;
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    now: () => later,
  });
  await using client = await connectWith(world, provider);
  const result = await client.callTool({ name: "echo", arguments: { text: "b" } });
  assert.equal(textOf(result), "echo: b");
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1);
  const refreshed = await world.store.load("demo", world.mcp.url);
  assert.notEqual(refreshed?.tokens?.accessToken, doc.tokens.accessToken);
  assert.equal(refreshed?.tokens?.tokenType, "DPoP");
  assert.equal((await world.as.verifyAccessToken(refreshed!.tokens!.accessToken))?.jkt, thumbprint);
  assert.deepEqual(world.gateLog.refusals, []);
});

Deno.test("DPoP: a replayed proof is refused", async () => {
  await using world = await startDpopWorld();
  await login(world);
  await using gateway = await startGateway(world);
  await gateway.client.callTool({ name: "demo__echo", arguments: { text: "x" } });
  const captured = lastProofRequest(world);
  const replay = await fetch(world.mcp.url, {
    method: "POST",
    headers: {
      authorization: captured.headers.authorization,
      dpop: captured.headers.dpop,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  await replay.body?.cancel();
  assert.equal(replay.status, 401);
  assert.deepEqual(world.gateLog.refusals, ["a replayed proof"]);
});

Deno.test("DPoP: a stolen access token is refused without the key it is bound to", async () => {
  await using world = await startDpopWorld();
  await login(world);
  const token = (await world.store.load("demo", world.mcp.url))!.tokens!.accessToken;
  const body = initializeRequestBody({ name: "x", version: "1" });
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };

  // As a bearer token.
  const asBearer = await fetch(world.mcp.url, {
    method: "POST",
    headers: { ...headers, authorization: `Bearer ${token}` },
    body,
  });
  await asBearer.body?.cancel();
  assert.equal(asBearer.status, 401);

  // With a valid proof of the thief's own key.
  const thief = await generateKeyPair("ES256", { extractable: true });
  const response = await oauth.protectedResourceRequest(
    token,
    "POST",
    new URL(world.mcp.url),
    new Headers(headers),
    body,
    { DPoP: oauth.DPoP({}, thief), [oauth.allowInsecureRequests]: true },
  ).catch((error) => (error as oauth.WWWAuthenticateChallengeError).response);
  await response.body?.cancel();
  assert.equal(response.status, 401);
  assert.deepEqual(world.gateLog.refusals, [
    "a DPoP-bound token sent as Bearer",
    "the proof key is not the token's key",
  ]);
});

Deno.test("DPoP: the server's nonce is retried once and remembered", async () => {
  await using world = await startDpopWorld({ rsNonce: "rs-nonce-1" });
  await login(world);
  const provider = new OAuthCredentialProvider(world.server, { store: world.store });
  await using client = await connectWith(world, provider);
  for (const text of ["one", "two"]) {
    const result = await client.callTool({ name: "echo", arguments: { text } });
    assert.equal(textOf(result), `echo: ${text}`);
  }
  assert.equal(world.gateLog.nonceChallenges, 1, "the nonce was remembered after one challenge");
  assert.deepEqual(world.gateLog.refusals, []);
});

Deno.test('DPoP: "dpop": false gets Bearer tokens from the same authorization server', async () => {
  await using world = await startDpopWorld({ auth: { type: "oauth", dpop: false } });
  await login(world);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.equal(doc?.tokens?.tokenType, "Bearer");
  assert.equal(doc?.dpopKey, undefined);
  assert.equal((await world.as.verifyAccessToken(doc!.tokens!.accessToken))?.jkt, undefined);
});

Deno.test("DPoP: a device login binds its tokens too, and the gateway proves them", async () => {
  await using world = await startDpopWorld();
  const result = await runCli(
    ["auth", "demo", "--device", "--no-browser", "--config", world.configPath],
    { home: world.home },
  );
  assert.equal(result.code, 0, result.stderr);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.equal(doc?.tokens?.tokenType?.toLowerCase(), "dpop"); // oauth4webapi lower-cases it
  assert.ok((await world.as.verifyAccessToken(doc.tokens.accessToken))?.jkt);
  await using gateway = await startGateway(world);
  const called = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "d" } });
  assert.equal(textOf(called), "echo: d");
  assert.deepEqual(world.gateLog.refusals, []);
});
