/**
 * ClientCredentialsProvider against the fixture authorization server: cold start,
 * single-flight, proactive refresh, refresh failures, retries and rotated secrets.
 */
import assert from "node:assert/strict";
import type { ClientCredentialsAuthConfig } from "../../src/config/types.ts";
import { AuthError } from "../../src/errors.ts";
import { ClientCredentialsProvider } from "../../src/auth/lifecycle/client_credentials_provider.ts";
import { startOAuthServer } from "../fixtures/oauth_server.ts";
import { makeScratchDir } from "../_helpers.ts";
import {
  assertNoSecrets,
  canary,
  captureLogger,
  ManualClock,
  recordingSleep,
  secretClient,
  unusedPortUrl,
  writeSecretFile,
} from "./_machine.ts";

const HOUR_MS = 3_600_000;
const RESOURCE = "https://mcp.example/mcp";

/** An AS with one client, a provider for it and everything a spec looks at. */
async function setup(
  options: { secret?: string; auth?: Partial<ClientCredentialsAuthConfig> } = {},
) {
  const secret = canary("secret");
  const as = await startOAuthServer({
    scopes: ["mcp:tools", "mcp:admin"],
    clients: [secretClient("machine-bot", secret)],
  });
  const dir = await makeScratchDir();
  const secretFile = await writeSecretFile(dir.path, "secret", options.secret ?? secret);
  const { logger, lines } = captureLogger();
  const clock = new ManualClock();
  const { sleep, sleeps } = recordingSleep();
  const tokens: string[] = [];
  const provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: as.tokenEndpoint,
    clientId: { value: "machine-bot" },
    clientSecret: { file: secretFile },
    scopes: ["mcp:tools"],
    refreshAt: 0.8,
    ...options.auth,
  }, { logger, now: clock.now, sleep, random: () => 0.5 });
  async function bearer(): Promise<string> {
    const { Authorization } = await provider.headers();
    const token = Authorization.replace(/^Bearer /, "");
    tokens.push(token);
    return token;
  }
  return {
    as,
    dir,
    provider,
    clock,
    sleeps,
    lines,
    bearer,
    secret,
    assertNoLeaks: () => assertNoSecrets(lines, [secret, ...tokens]),
    async [Symbol.asyncDispose]() {
      await provider.close();
      await as.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("a cold provider obtains a token and sends it as a bearer header", async () => {
  await using t = await setup({ auth: { resource: RESOURCE, audience: "mcp-api" } });
  const token = await t.bearer();
  const info = await t.as.verifyAccessToken(token);
  assert.equal(info?.clientId, "machine-bot");
  assert.deepEqual(info?.scopes, ["mcp:tools"]);
  assert.equal(info?.resource?.href, RESOURCE);
  assert.equal(t.as.counters.token, 1);
  const status = await t.provider.status();
  assert.equal(status.authType, "client_credentials");
  assert.equal(status.state, "ok");
  assert.equal(status.expiresAt, t.clock.ms + HOUR_MS);
  assert.deepEqual(status.scopes, ["mcp:tools"]);
  assert.ok(!JSON.stringify(status).includes(token));
  t.assertNoLeaks();
});

Deno.test("64 concurrent headers() calls on a cold cache make exactly one token request", async () => {
  await using t = await setup();
  const tokens = await Promise.all(Array.from({ length: 64 }, () => t.bearer()));
  assert.equal(new Set(tokens).size, 1);
  assert.equal(t.as.counters.token, 1);
  t.assertNoLeaks();
});

Deno.test("past the refresh point the next headers() call fetches exactly one new token", async () => {
  await using t = await setup();
  const first = await t.bearer();
  t.clock.advance(0.79 * HOUR_MS);
  assert.equal(await t.bearer(), first);
  assert.equal(t.as.counters.token, 1);
  t.clock.advance(0.02 * HOUR_MS);
  const refreshed = await Promise.all(Array.from({ length: 8 }, () => t.bearer()));
  assert.equal(t.as.counters.token, 2);
  const second = await t.bearer();
  assert.notEqual(second, first);
  assert.ok(refreshed.includes(second));
  assert.ok(await t.as.verifyAccessToken(second));
  assert.equal(t.as.counters.token, 2);
  t.assertNoLeaks();
});

Deno.test("a failed refresh keeps the valid token; once expired the failure is a temporary AuthError", async () => {
  await using t = await setup();
  const first = await t.bearer();
  t.clock.advance(0.85 * HOUR_MS);
  t.as.failTokenRequests(1, 503);
  assert.equal(await t.bearer(), first);
  assert.equal(t.as.counters.token, 2);
  let status = await t.provider.status();
  assert.equal(status.state, "refresh-failed");
  assert.match(status.lastError ?? "", /internal/);
  assert.ok(t.lines.some((line) => line.includes(" warn ") && line.includes("internal")));

  t.clock.advance(0.2 * HOUR_MS);
  t.as.failTokenRequests(4, 503);
  const error = await t.provider.headers().catch((e) => e);
  assert.ok(error instanceof AuthError);
  assert.equal(error.temporary, true);
  assert.equal(error.server, "internal");
  assert.equal(error.code, "auth_failed");
  assert.equal(t.as.counters.token, 6);
  assert.equal(t.sleeps.length, 3);
  status = await t.provider.status();
  assert.equal(status.state, "expired");

  const third = await t.bearer();
  assert.notEqual(third, first);
  assert.equal((await t.provider.status()).state, "ok");
  t.assertNoLeaks();
});

Deno.test("an unreachable token endpoint fails with a temporary AuthError naming the server", async () => {
  await using t = await setup({ auth: { tokenUrl: unusedPortUrl("/token") } });
  const error = await t.provider.headers().catch((e) => e);
  assert.ok(error instanceof AuthError);
  assert.equal(error.temporary, true);
  assert.equal(error.server, "internal");
  assert.match(error.message, /"internal"/);
  assert.equal(t.sleeps.length, 3, "four attempts, three waits");
  assert.ok(t.sleeps.every((ms, i) => i === 0 || ms > t.sleeps[i - 1]), "backoff grows");
  assert.equal((await t.provider.status()).state, "error");
  t.assertNoLeaks();
});

Deno.test("a 429 with Retry-After waits at least that long before trying again", async () => {
  await using t = await setup();
  t.as.failTokenRequests(1, 429, { retryAfterSeconds: 7 });
  const token = await t.bearer();
  assert.ok(await t.as.verifyAccessToken(token));
  assert.equal(t.as.counters.token, 2);
  assert.equal(t.sleeps.length, 1);
  assert.ok(t.sleeps[0] >= 7000, `slept ${t.sleeps[0]} ms`);
  t.assertNoLeaks();
});

Deno.test("a Retry-After beyond a minute ends the retries at once", async () => {
  await using t = await setup();
  t.as.failTokenRequests(1, 503, { retryAfterSeconds: 3600 });
  const error = await t.provider.headers().catch((e) => e);
  assert.ok(error instanceof AuthError);
  assert.equal(error.temporary, true);
  assert.equal(t.as.counters.token, 1);
  assert.deepEqual(t.sleeps, []);
});

Deno.test("invalid_client is not retried and names the settings to check", async () => {
  await using t = await setup({ secret: canary("wrong-secret") });
  const error = await t.provider.headers().catch((e) => e);
  assert.ok(error instanceof AuthError);
  assert.equal(error.temporary, false);
  assert.match(error.message, /"clientId" and "clientSecretFile"/);
  assert.equal(t.as.counters.token, 1);
  assert.deepEqual(t.sleeps, []);
  assert.equal((await t.provider.status()).state, "needs-auth");
  t.assertNoLeaks();
  assertNoSecrets([error.message, String(error.cause ?? "")], [t.secret]);
});

Deno.test("invalid_scope fails without retry and names scopes", async () => {
  await using t = await setup();
  t.as.failTokenRequests(1, 400, { error: "invalid_scope" });
  const error = await t.provider.headers().catch((e) => e);
  assert.ok(error instanceof AuthError);
  assert.equal(error.temporary, false);
  assert.match(error.message, /"scopes"/);
  assert.equal(t.as.counters.token, 1);
  assert.deepEqual(t.sleeps, []);
});

Deno.test("rotated client ID and secret files are used at the next token request", async () => {
  const oldSecret = canary("old-secret");
  const newSecret = canary("new-secret");
  await using as = await startOAuthServer({
    scopes: ["mcp:tools"],
    clients: [secretClient("bot-old", oldSecret), secretClient("bot-new", newSecret)],
  });
  await using dir = await makeScratchDir();
  const idFile = await writeSecretFile(dir.path, "id", "bot-old");
  const secretFile = await writeSecretFile(dir.path, "secret", oldSecret);
  const { logger, lines } = captureLogger();
  const clock = new ManualClock();
  await using provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: as.tokenEndpoint,
    clientId: { file: idFile },
    clientSecret: { file: secretFile },
    refreshAt: 0.8,
  }, { logger, now: clock.now });
  const bearer = async () => (await provider.headers()).Authorization.replace(/^Bearer /, "");
  const first = await bearer();
  assert.equal((await as.verifyAccessToken(first))?.clientId, "bot-old");

  await writeSecretFile(dir.path, "id", "bot-new");
  await writeSecretFile(dir.path, "secret", newSecret);
  assert.equal(await bearer(), first, "the cached token stays in use until it is due");
  clock.advance(HOUR_MS + 1);
  const second = await bearer();
  assert.equal((await as.verifyAccessToken(second))?.clientId, "bot-new");
  assertNoSecrets(lines, [oldSecret, newSecret, first, second]);
});

Deno.test("the background timer refreshes a short-lived token before it expires", async () => {
  const secret = canary("secret");
  await using as = await startOAuthServer({
    accessTokenTtlSeconds: 2,
    clients: [secretClient("machine-bot", secret)],
  });
  const { logger, lines } = captureLogger();
  const secondResponse = Promise.withResolvers<void>();
  let responses = 0;
  const observed: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (String(input instanceof Request ? input.url : input).endsWith("/token")) {
      if (++responses === 2) queueMicrotask(() => secondResponse.resolve());
    }
    return response;
  };
  await using provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: as.tokenEndpoint,
    clientId: { value: "machine-bot" },
    clientSecret: { value: secret },
    refreshAt: 0.25,
  }, { logger, fetch: observed });
  const first = (await provider.headers()).Authorization;
  await secondResponse.promise;
  // The response is being processed; the next call either joins it or sees its result.
  const second = (await provider.headers()).Authorization;
  assert.notEqual(second, first);
  assert.equal(as.counters.token, 2);
  assertNoSecrets(lines, [secret, first.slice(7), second.slice(7)]);
});

Deno.test("a caller that aborts stops waiting; close() aborts the request under way", async () => {
  await using t = await setup();
  const sleeping = Promise.withResolvers<void>();
  const closedDuringSleep = Promise.withResolvers<unknown>();
  const { logger } = captureLogger();
  await using provider = new ClientCredentialsProvider("internal", {
    type: "client_credentials",
    tokenUrl: t.as.tokenEndpoint,
    clientId: { value: "machine-bot" },
    clientSecret: { value: t.secret },
    refreshAt: 0.8,
  }, {
    logger,
    sleep: (_ms, signal) => {
      sleeping.resolve();
      return new Promise((_, reject) => {
        signal?.addEventListener("abort", () => {
          closedDuringSleep.resolve(signal.reason);
          reject(signal.reason);
        });
      });
    },
  });
  t.as.failTokenRequests(1, 503);
  const caller = new AbortController();
  const waiting = provider.headers(caller.signal);
  const other = provider.headers().catch((e) => e);
  await sleeping.promise;
  caller.abort(new Error("caller gave up"));
  await assert.rejects(waiting, { message: "caller gave up" });
  await provider.close();
  assert.ok(await closedDuringSleep.promise instanceof Error);
  assert.ok(await other instanceof Error);
  assert.equal(t.as.counters.token, 1);
});

Deno.test("close() stops the provider from refreshing in the background", async () => {
  await using t = await setup();
  await t.bearer();
  await t.provider.close();
  await t.provider.close();
  assert.equal(t.as.counters.token, 1);
});
