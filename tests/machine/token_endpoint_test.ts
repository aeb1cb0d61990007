/**
 * How ClientCredentialsProvider talks to a token endpoint: client authentication chosen from
 * RFC 8414 metadata, the fallback without metadata, and odd `expires_in` values. A front
 * server forwards token requests to the fixture authorization server.
 */
import assert from "node:assert/strict";
import { AuthError } from "../../src/errors.ts";
import { ClientCredentialsProvider } from "../../src/auth/lifecycle/client_credentials_provider.ts";
import { type PreRegisteredClient, startOAuthServer } from "../fixtures/oauth_server.ts";
import {
  assertNoSecrets,
  canary,
  captureLogger,
  ManualClock,
  secretClient,
  startTokenFront,
  type TokenFrontOptions,
} from "./_machine.ts";

async function setup(client: PreRegisteredClient, front: TokenFrontOptions) {
  const as = await startOAuthServer({ scopes: ["mcp:tools"], clients: [client] });
  const proxy = await startTokenFront(as, front);
  const { logger, lines } = captureLogger();
  const clock = new ManualClock();
  const provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: proxy.tokenUrl,
    clientId: { value: client.client_id },
    clientSecret: { value: client.client_secret! },
    scopes: ["mcp:tools"],
    resource: "https://mcp.example/mcp",
    audience: "mcp-api",
    refreshAt: 0.8,
  }, { logger, now: clock.now, sleep: () => Promise.resolve() });
  return {
    as,
    proxy,
    provider,
    clock,
    lines,
    async [Symbol.asyncDispose]() {
      await provider.close();
      await proxy[Symbol.asyncDispose]();
      await as.close();
    },
  };
}

Deno.test("metadata that lists only client_secret_post makes the secret go in the body", async () => {
  const secret = canary("secret");
  const client = {
    ...secretClient("poster", secret),
    token_endpoint_auth_method: "client_secret_post",
  };
  await using t = await setup(client, { authMethods: ["client_secret_post"] });
  const token = (await t.provider.headers()).Authorization.slice(7);
  assert.equal((await t.as.verifyAccessToken(token))?.clientId, "poster");
  const sent = t.proxy.requests[0];
  assert.equal(sent.get("client_id"), "poster");
  assert.equal(sent.get("resource"), "https://mcp.example/mcp");
  assert.equal(sent.get("audience"), "mcp-api");
  assert.equal(sent.get("scope"), "mcp:tools");
  assertNoSecrets(t.lines, [secret, token]);
});

Deno.test("without metadata the token URL is used as configured, with basic auth", async () => {
  const secret = canary("secret");
  await using t = await setup(secretClient("basic-bot", secret), {});
  const token = (await t.provider.headers()).Authorization.slice(7);
  assert.equal((await t.as.verifyAccessToken(token))?.clientId, "basic-bot");
  assert.equal(t.proxy.requests[0].get("client_id"), null, "basic auth sends the id in a header");
  assertNoSecrets(t.lines, [secret, token]);
});

Deno.test("a token response without expires_in is treated as valid for one hour", async () => {
  const secret = canary("secret");
  await using t = await setup(secretClient("bot", secret), {
    rewrite: ({ expires_in: _, ...rest }) => rest,
  });
  await t.provider.headers();
  assert.equal((await t.provider.status()).expiresAt, t.clock.ms + 3_600_000);
  assert.ok(t.lines.some((line) => line.includes("expires_in")));
  t.clock.advance(0.5 * 3_600_000);
  await t.provider.headers();
  assert.equal(t.as.counters.token, 1);
});

Deno.test("a token response with a negative expires_in is an error, not a token", async () => {
  const secret = canary("secret");
  await using t = await setup(secretClient("bot", secret), {
    rewrite: (body) => ({ ...body, expires_in: -5 }),
  });
  const error = await t.provider.headers().catch((e) => e);
  assert.ok(error instanceof AuthError);
  assert.equal(error.temporary, false);
  assert.equal(t.as.counters.token, 1);
  assertNoSecrets(t.lines, [secret]);
});
