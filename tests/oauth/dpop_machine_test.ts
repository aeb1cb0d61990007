/**
 * DPoP for the machine grants: against the oidc-provider fixture with DPoP on (and an AS nonce
 * required), client_credentials gets a token bound to an in-memory key, presents it with the
 * DPoP scheme and a fresh proof to an MCP server that checks the binding, and says so in
 * `status`; `"dpop": false` keeps Bearer tokens.
 */
import assert from "node:assert/strict";
import type { ClientCredentialsAuthConfig } from "../../src/config/types.ts";
import { ClientCredentialsProvider } from "../../src/auth/lifecycle/client_credentials_provider.ts";
import { createAuthFetch } from "../../src/auth/lifecycle/auth_fetch.ts";
import { createCredentialProvider } from "../../src/auth/lifecycle/create_credential_provider.ts";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { startOAuthServer } from "../fixtures/oauth_server.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { dpopGate } from "../fixtures/dpop_gate.ts";
import { initializeRequestBody } from "../_helpers.ts";
import { assertNoSecrets, canary, captureLogger, secretClient } from "../machine/_machine.ts";

async function setup() {
  const secret = canary("secret");
  const as = await startOAuthServer({
    scopes: ["mcp:tools"],
    dpop: { requireNonce: true },
    clients: [secretClient("bot", secret)],
  });
  const { gate, log } = dpopGate({ binding: (token) => as.verifyAccessToken(token) });
  const mcp = await startHttpMcpServer({
    gate: (request) => new URL(request.url).pathname === "/mcp" ? gate(request) : undefined,
    auth: {
      verify: async (token) => {
        const info = await as.verifyAccessToken(token);
        return info ? { scopes: info.scopes } : undefined;
      },
      acceptDpopScheme: true,
    },
  });
  const { logger, lines } = captureLogger();
  const provider = (auth: Partial<ClientCredentialsAuthConfig> = {}) =>
    new ClientCredentialsProvider("bot", {
      type: "client_credentials",
      tokenUrl: as.tokenEndpoint,
      clientId: { value: "bot" },
      clientSecret: { value: secret },
      scopes: ["mcp:tools"],
      refreshAt: 0.8,
      ...auth,
    }, { logger, sleep: () => Promise.resolve() });
  return {
    as,
    mcp,
    log,
    lines,
    secret,
    provider,
    async [Symbol.asyncDispose]() {
      await mcp.close();
      await as.close();
    },
  };
}

const INITIALIZE = initializeRequestBody();

Deno.test("DPoP: client_credentials gets a bound token (AS nonce retried) and proves it to the server", async () => {
  await using t = await setup();
  await using provider = t.provider();
  const authorization = (await provider.headers()).Authorization;
  const [scheme, token] = authorization.split(" ");
  assert.equal(scheme, "DPoP");
  assert.ok((await t.as.verifyAccessToken(token))?.jkt, "the token is bound to a key");
  assert.equal((await provider.status()).dpop, true);
  assert.equal(t.as.counters.tokenByGrant.client_credentials, 2, "use_dpop_nonce, then a retry");

  const authFetch = createAuthFetch({ credentials: provider, backoff: () => Promise.resolve() });
  for (let i = 0; i < 2; i++) {
    const response = await authFetch(t.mcp.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: INITIALIZE,
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.body?.cancel();
  }
  assert.equal(t.log.accepted, 2, "two requests, two fresh proofs");
  assert.deepEqual(t.log.refusals, []);
  assertNoSecrets(t.lines, [t.secret, token]);
});

Deno.test('DPoP: "dpop": false keeps client_credentials tokens Bearer', async () => {
  await using t = await setup();
  await using provider = t.provider({ dpop: false });
  const [scheme, token] = (await provider.headers()).Authorization.split(" ");
  assert.equal(scheme, "Bearer");
  assert.equal((await t.as.verifyAccessToken(token))?.jkt, undefined);
  assert.equal((await provider.status()).dpop, undefined);
});

Deno.test("DPoP: an allowUnauthenticated server's provider still signs its proofs", async () => {
  await using t = await setup();
  const provider = createCredentialProvider({
    name: "bot",
    type: "http",
    url: t.mcp.url,
    headers: {},
    enabled: true,
    allowUnauthenticated: true,
    allowInsecureHttp: false,
    timeoutMs: 10_000,
    auth: {
      type: "client_credentials",
      tokenUrl: t.as.tokenEndpoint,
      clientId: { value: "bot" },
      clientSecret: { value: t.secret },
      scopes: ["mcp:tools"],
      refreshAt: 0.8,
    },
  }, {
    logger: captureLogger().logger,
    store: new FileTokenStore({ dir: await Deno.makeTempDir() }),
  })!;
  try {
    const authFetch = createAuthFetch({ credentials: provider, backoff: () => Promise.resolve() });
    const response = await authFetch(t.mcp.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: INITIALIZE,
    });
    await response.body?.cancel();
    assert.equal(response.status, 200);
    assert.equal(t.log.accepted, 1);
  } finally {
    await provider.close?.();
  }
});
