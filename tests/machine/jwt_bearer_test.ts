/**
 * Workload identity federation (`jwt_bearer`, RFC 7523 §2.1): a platform-issued assertion in a
 * file (re-read for every token request, as a projected service-account token rotates) is
 * exchanged at a token endpoint that verifies it with jose (signature, audience, expiry), and
 * unusable assertions fail before anything is sent, naming the server and the setting.
 */
import assert from "node:assert/strict";
import { generateKeyPair, jwtVerify, SignJWT } from "jose";
import type { JwtBearerAuthConfig } from "../../src/config/types.ts";
import { AuthError, ConfigError } from "../../src/errors.ts";
import { ClientCredentialsProvider } from "../../src/auth/lifecycle/client_credentials_provider.ts";
import { JwtBearerGrant } from "../../src/auth/lifecycle/jwt_bearer_grant.ts";
import { makeScratchDir } from "../_helpers.ts";
import { assertNoSecrets, canary, captureLogger, writeSecretFile } from "./_machine.ts";

const GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** A token endpoint that accepts assertions signed by the platform key for its audience. */
async function startWorkloadAs() {
  const platform = await generateKeyPair("ES256");
  const assertionsSeen: string[] = [];
  const grantTypes: string[] = [];
  let issued = 0;
  let tokenUrl = "";
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req): Promise<Response> => {
      const url = new URL(req.url);
      if (url.pathname !== "/token") return new Response("not found", { status: 404 });
      const body = new URLSearchParams(await req.text());
      grantTypes.push(body.get("grant_type") ?? "");
      const assertion = body.get("assertion") ?? "";
      assertionsSeen.push(assertion);
      try {
        const { payload } = await jwtVerify(assertion, platform.publicKey, { audience: tokenUrl });
        const token: string = `workload-token-${++issued}-${payload.sub}`;
        return Response.json({ access_token: token, token_type: "Bearer", expires_in: 3600 });
      } catch {
        return Response.json({ error: "invalid_grant" }, { status: 400 });
      }
    },
  );
  tokenUrl = `http://127.0.0.1:${server.addr.port}/token`;
  const sign = (sub: string, exp = "10m") =>
    new SignJWT({ sub }).setProtectedHeader({ alg: "ES256" }).setIssuer("https://k8s.example")
      .setAudience(tokenUrl).setIssuedAt().setExpirationTime(exp).sign(platform.privateKey);
  return {
    tokenUrl,
    sign,
    assertionsSeen,
    grantTypes,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function setup() {
  const as = await startWorkloadAs();
  const dir = await makeScratchDir();
  const { logger, lines } = captureLogger();
  const provider = async (assertion: string, auth: Partial<JwtBearerAuthConfig> = {}) => {
    const file = await writeSecretFile(dir.path, "token", assertion);
    const config: JwtBearerAuthConfig = {
      type: "jwt_bearer",
      tokenUrl: as.tokenUrl,
      assertion: { file },
      refreshAt: 0.8,
      ...auth,
    };
    return {
      file,
      provider: new ClientCredentialsProvider("workload", config, {
        logger,
        sleep: () => Promise.resolve(),
        grant: new JwtBearerGrant("workload", config, { logger }),
      }),
    };
  };
  return {
    as,
    dir,
    lines,
    provider,
    async [Symbol.asyncDispose]() {
      await as[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("jwt_bearer exchanges the assertion file and re-reads it after it rotates", async () => {
  await using t = await setup();
  const first = await t.as.sign("system:serviceaccount:ci:first");
  const { file, provider: p } = await t.provider(first);
  await using provider = p;
  const header = (await provider.headers()).Authorization;
  assert.match(header, /^Bearer workload-token-1-system:serviceaccount:ci:first$/);
  assert.deepEqual(t.as.grantTypes, [GRANT]);

  // The platform rotates the projected token; the next token request uses the new one.
  const second = await t.as.sign("system:serviceaccount:ci:second");
  await Deno.writeTextFile(file, second);
  assert.equal(await provider.recover(new Response(null, { status: 401 })), true);
  assert.match((await provider.headers()).Authorization, /workload-token-2-.*:second$/);
  assert.deepEqual(t.as.assertionsSeen, [first, second]);
  assert.equal((await provider.status()).authType, "jwt_bearer");
  assertNoSecrets(t.lines, [first, second]);
});

Deno.test("jwt_bearer refuses an expired assertion before sending it", async () => {
  await using t = await setup();
  const expired = await t.as.sign("system:serviceaccount:ci:old", "-60s");
  const { provider: p } = await t.provider(expired);
  await using provider = p;
  const error = await provider.headers().then(() => undefined, (e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /"assertionFile" of server "workload" expired at/);
  assert.ok(!error.message.includes(expired));
  assert.equal(t.as.assertionsSeen.length, 0, "nothing was sent");
  assert.equal((await provider.status()).state, "error");
  assertNoSecrets(t.lines, [expired]);
});

Deno.test("jwt_bearer names the setting when the assertion file is missing or empty", async () => {
  await using t = await setup();
  const { file, provider: p } = await t.provider("unused");
  await using provider = p;
  await Deno.writeTextFile(file, "\n");
  await assert.rejects(
    provider.headers(),
    (e) =>
      e instanceof ConfigError && /"assertionFile" of server "workload"/.test(e.message) &&
      /the file is empty/.test(e.message),
  );
  await Deno.remove(file);
  await assert.rejects(
    provider.headers(),
    (e) => e instanceof ConfigError && /the file does not exist/.test(e.message),
  );
  assert.equal(t.as.assertionsSeen.length, 0);
});

Deno.test("jwt_bearer: a refused assertion is an AuthError that points at the setting", async () => {
  await using t = await setup();
  const forged = `${canary("header")}.${btoa(JSON.stringify({ sub: "x" }))}.${canary("sig")}`;
  const { provider: p } = await t.provider(forged);
  await using provider = p;
  const error = await provider.headers().then(() => undefined, (e) => e);
  assert.ok(error instanceof AuthError && !error.temporary, String(error));
  assert.match(error.message, /refused the request \(400 "invalid_grant"\); check "assertionFile"/);
  assert.ok(!error.message.includes(forged));
  assert.equal(t.as.assertionsSeen.length, 1, "a refused grant is not retried");
  assertNoSecrets(t.lines, [forged]);
});
