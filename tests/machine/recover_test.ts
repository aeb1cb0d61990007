/**
 * ClientCredentialsProvider behind createAuthFetch against the streamable HTTP MCP fixture:
 * a 401 gets a new token, a 403 insufficient_scope a wider one.
 */
import assert from "node:assert/strict";
import { createAuthFetch } from "../../src/auth/lifecycle/auth_fetch.ts";
import { ClientCredentialsProvider } from "../../src/auth/lifecycle/client_credentials_provider.ts";
import { type OAuthServerHandle, startOAuthServer } from "../fixtures/oauth_server.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { initializeRequestBody } from "../_helpers.ts";
import { assertNoSecrets, canary, captureLogger, secretClient } from "./_machine.ts";

const INITIALIZE = initializeRequestBody({ name: "spec", version: "1.0.0" });

/** Posts an MCP initialize request through `authFetch` and returns the status. */
async function initialize(authFetch: typeof fetch, url: string): Promise<number> {
  const response = await authFetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: INITIALIZE,
  });
  await response.text();
  return response.status;
}

function verifier(as: OAuthServerHandle) {
  return async (token: string) => {
    const info = await as.verifyAccessToken(token);
    return info && { scopes: info.scopes };
  };
}

Deno.test("a 401 from the MCP server drops the token, gets a new one and the retry succeeds", async () => {
  const secret = canary("secret");
  await using as = await startOAuthServer({
    scopes: ["mcp:tools"],
    clients: [secretClient("machine-bot", secret)],
  });
  await using mcp = await startHttpMcpServer({ auth: { verify: verifier(as) } });
  const { logger, lines } = captureLogger();
  await using provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: as.tokenEndpoint,
    clientId: { value: "machine-bot" },
    clientSecret: { value: secret },
    scopes: ["mcp:tools"],
    refreshAt: 0.8,
  }, { logger });
  const authFetch = createAuthFetch({ credentials: provider, backoff: () => Promise.resolve() });
  assert.equal(await initialize(authFetch, mcp.url), 200);
  assert.equal(as.counters.token, 1);

  await as.revokeAll();
  assert.equal(await initialize(authFetch, mcp.url), 200);
  assert.equal(as.counters.token, 2);
  const statuses = mcp.requests.map((r) => r.headers.authorization ? "bearer" : "none");
  assert.deepEqual(statuses, ["bearer", "bearer", "bearer"]);
  assert.equal((await provider.status()).state, "ok");
  const tokens = mcp.requests.map((r) => r.headers.authorization.slice(7));
  assert.notEqual(tokens[1], tokens[2]);
  assertNoSecrets(lines, [secret, ...tokens]);
});

Deno.test("recover() answers false for a 403 without insufficient_scope and for other statuses", async () => {
  await using as = await startOAuthServer({ clients: [secretClient("machine-bot", "s3cr3t-x")] });
  const { logger } = captureLogger();
  await using provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: as.tokenEndpoint,
    clientId: { value: "machine-bot" },
    clientSecret: { value: "s3cr3t-x" },
    refreshAt: 0.8,
  }, { logger });
  assert.equal(await provider.recover(new Response(null, { status: 403 })), false);
  assert.equal(await provider.recover(new Response(null, { status: 500 })), false);
  assert.equal(as.counters.token, 0);
});

Deno.test("a 403 insufficient_scope gets a token with the union of scopes, once", async () => {
  const secret = canary("secret");
  await using as = await startOAuthServer({
    scopes: ["mcp:read", "mcp:write"],
    clients: [secretClient("machine-bot", secret)],
  });
  await using mcp = await startHttpMcpServer({
    auth: { verify: verifier(as), requiredScopes: ["mcp:read", "mcp:write"] },
  });
  const { logger, lines } = captureLogger();
  await using provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: as.tokenEndpoint,
    clientId: { value: "machine-bot" },
    clientSecret: { value: secret },
    scopes: ["mcp:read"],
    refreshAt: 0.8,
  }, { logger });
  const authFetch = createAuthFetch({ credentials: provider, backoff: () => Promise.resolve() });
  assert.equal(await initialize(authFetch, mcp.url), 200);
  assert.equal(as.counters.token, 2);
  assert.deepEqual((await provider.status()).scopes?.toSorted(), ["mcp:read", "mcp:write"]);
  const wide = mcp.requests.at(-1)!.headers.authorization.slice(7);
  assert.deepEqual((await as.verifyAccessToken(wide))?.scopes.toSorted(), [
    "mcp:read",
    "mcp:write",
  ]);

  // The same challenge again asks for nothing new: recover() declines instead of looping.
  const again = new Response(null, {
    status: 403,
    headers: {
      "www-authenticate": 'Bearer error="insufficient_scope", scope="mcp:read mcp:write"',
    },
  });
  assert.equal(await provider.recover(again), false);
  assert.equal(as.counters.token, 2);
  assert.equal(await initialize(authFetch, mcp.url), 200);
  assert.equal(as.counters.token, 2);
  assertNoSecrets(lines, [secret, wide]);
});

Deno.test("a 403 insufficient_scope in a DPoP challenge (RFC 9449 §7.1) widens the scopes as a Bearer one does", async () => {
  const secret = canary("secret");
  await using as = await startOAuthServer({
    scopes: ["mcp:read", "mcp:write"],
    clients: [secretClient("machine-bot", secret)],
  });
  const { logger, lines } = captureLogger();
  await using provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: as.tokenEndpoint,
    clientId: { value: "machine-bot" },
    clientSecret: { value: secret },
    scopes: ["mcp:read"],
    refreshAt: 0.8,
  }, { logger });
  const narrow = (await provider.headers()).Authorization.slice(7);
  assert.equal(as.counters.token, 1);
  const challenge = new Response(null, {
    status: 403,
    headers: {
      "www-authenticate":
        'DPoP algs="ES256", error="insufficient_scope", scope="mcp:read mcp:write"',
    },
  });
  assert.equal(await provider.recover(challenge), true);
  assert.equal(as.counters.token, 2);
  assert.deepEqual((await provider.status()).scopes?.toSorted(), ["mcp:read", "mcp:write"]);
  const wide = (await provider.headers()).Authorization.slice(7);
  assert.deepEqual((await as.verifyAccessToken(wide))?.scopes.toSorted(), [
    "mcp:read",
    "mcp:write",
  ]);
  assertNoSecrets(lines, [secret, narrow, wide]);
});
