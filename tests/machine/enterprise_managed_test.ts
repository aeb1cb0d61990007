/**
 * Enterprise-managed authorization (`enterprise_managed`, SEP-990): an IdP that exchanges the
 * user's ID token for an ID-JAG (RFC 8693) and an MCP authorization server that accepts the
 * ID-JAG with the jwt-bearer grant and client_secret_basic, both written here with jose; and
 * the failures a user meets: an IdP that refuses the exchange, an expired ID token.
 */
import assert from "node:assert/strict";
import { generateKeyPair, jwtVerify, SignJWT } from "jose";
import type { EnterpriseManagedAuthConfig } from "../../src/config/types.ts";
import { AuthError, ConfigError } from "../../src/errors.ts";
import { ClientCredentialsProvider } from "../../src/auth/lifecycle/client_credentials_provider.ts";
import { IdJagGrant } from "../../src/auth/lifecycle/id_jag_grant.ts";
import { makeScratchDir } from "../_helpers.ts";
import { assertNoSecrets, canary, captureLogger, writeSecretFile } from "./_machine.ts";

const RESOURCE = "https://crm.mcp.example/mcp";

function listen(handler: (request: Request, origin: string) => Promise<Response>) {
  let origin = "";
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => handler(request, origin),
  );
  origin = `http://127.0.0.1:${server.addr.port}`;
  return { origin, close: () => server.shutdown() };
}

async function setup() {
  const idpKey = await generateKeyPair("ES256");
  const clientSecret = canary("client-secret");
  const exchanges: URLSearchParams[] = [];
  const assertions: string[] = [];
  const idp = listen(async (request, origin) => {
    const body = new URLSearchParams(await request.text());
    exchanges.push(body);
    try {
      const { payload } = await jwtVerify(body.get("subject_token") ?? "", idpKey.publicKey, {
        audience: "toolscript-at-idp",
        issuer: origin,
      });
      const idJag = await new SignJWT({ resource: body.get("resource"), client_id: "crm-client" })
        .setProtectedHeader({ alg: "ES256", typ: "oauth-id-jag+jwt" }).setIssuer(origin)
        .setSubject(payload.sub!).setAudience(body.get("audience")!).setIssuedAt()
        .setExpirationTime("5m").sign(idpKey.privateKey);
      return Response.json({
        access_token: idJag,
        issued_token_type: "urn:ietf:params:oauth:token-type:id-jag",
        token_type: "N_A",
      });
    } catch {
      return Response.json({ error: "invalid_grant" }, { status: 400 });
    }
  });
  const as = listen(async (request, origin) => {
    const path = new URL(request.url).pathname;
    if (path === "/.well-known/oauth-authorization-server") {
      return Response.json({
        issuer: origin,
        token_endpoint: `${origin}/token`,
        token_endpoint_auth_methods_supported: ["client_secret_basic"],
      });
    }
    if (path !== "/token") return new Response(null, { status: 404 });
    const body = new URLSearchParams(await request.text());
    assertions.push(body.get("assertion") ?? "");
    const basic = `Basic ${btoa(`crm-client:${clientSecret}`)}`;
    if (request.headers.get("authorization") !== basic) {
      return Response.json({ error: "invalid_client" }, { status: 401 });
    }
    try {
      const { payload } = await jwtVerify(body.get("assertion") ?? "", idpKey.publicKey, {
        audience: origin,
        typ: "oauth-id-jag+jwt",
      });
      if (payload.resource !== RESOURCE) throw new Error("resource");
      return Response.json({
        access_token: `crm-token-for-${payload.sub}`,
        token_type: "Bearer",
        expires_in: 600,
      });
    } catch {
      return Response.json({ error: "invalid_grant" }, { status: 400 });
    }
  });
  const idToken = (audience = "toolscript-at-idp", exp = "10m") =>
    new SignJWT({ email: "ada@corp.example" }).setProtectedHeader({ alg: "ES256" })
      .setIssuer(idp.origin).setSubject("ada").setAudience(audience).setIssuedAt()
      .setExpirationTime(exp).sign(idpKey.privateKey);
  const dir = await makeScratchDir();
  const { logger, lines } = captureLogger();
  const provider = async (token: string) => {
    const auth: EnterpriseManagedAuthConfig = {
      type: "enterprise_managed",
      tokenUrl: `${as.origin}/token`,
      clientId: "crm-client",
      clientSecret: { value: clientSecret },
      idpTokenUrl: `${idp.origin}/token`,
      idpClientId: "toolscript-at-idp",
      idToken: { file: await writeSecretFile(dir.path, "id_token", token) },
      refreshAt: 0.8,
    };
    return new ClientCredentialsProvider("crm", auth, {
      logger,
      sleep: () => Promise.resolve(),
      grant: new IdJagGrant("crm", auth, { logger, serverUrl: RESOURCE }),
    });
  };
  return {
    idToken,
    provider,
    exchanges,
    assertions,
    lines,
    clientSecret,
    asOrigin: as.origin,
    async [Symbol.asyncDispose]() {
      await idp.close();
      await as.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("enterprise_managed exchanges the ID token for an ID-JAG, then the ID-JAG for a token", async () => {
  await using t = await setup();
  const idToken = await t.idToken();
  await using provider = await t.provider(idToken);
  assert.equal((await provider.headers()).Authorization, "Bearer crm-token-for-ada");
  const [exchange] = t.exchanges;
  assert.equal(exchange.get("grant_type"), "urn:ietf:params:oauth:grant-type:token-exchange");
  assert.equal(exchange.get("subject_token_type"), "urn:ietf:params:oauth:token-type:id_token");
  assert.equal(exchange.get("requested_token_type"), "urn:ietf:params:oauth:token-type:id-jag");
  assert.equal(exchange.get("audience"), t.asOrigin, "the AS issuer, from its metadata");
  assert.equal(exchange.get("resource"), RESOURCE, "the server's url");
  assert.equal(t.assertions.length, 1);
  assert.equal((await provider.status()).authType, "enterprise_managed");
  assertNoSecrets(t.lines, [idToken, t.clientSecret, ...t.assertions]);
});

Deno.test("enterprise_managed: an IdP that refuses the exchange is a clear error, never the token", async () => {
  await using t = await setup();
  const wrongAudience = await t.idToken("someone-else");
  await using provider = await t.provider(wrongAudience);
  const error = await provider.headers().then(() => undefined, (e) => e);
  assert.ok(error instanceof AuthError && !error.temporary, String(error));
  assert.match(
    error.message,
    /server "crm": the identity provider refused the token exchange \(400 "invalid_grant"\); check "idTokenFile" and "idpClientId"/,
  );
  assert.ok(!error.message.includes(wrongAudience));
  assert.equal(t.assertions.length, 0, "nothing reached the MCP server's authorization server");
  assertNoSecrets(t.lines, [wrongAudience, t.clientSecret]);
});

Deno.test("enterprise_managed refuses an expired ID token before sending it", async () => {
  await using t = await setup();
  const expired = await t.idToken(undefined, "-1m");
  await using provider = await t.provider(expired);
  await assert.rejects(
    provider.headers(),
    (e) => e instanceof ConfigError && /"idTokenFile" of server "crm" expired at/.test(e.message),
  );
  assert.equal(t.exchanges.length, 0);
});
