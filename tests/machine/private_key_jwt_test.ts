/**
 * private_key_jwt (RFC 7523) client authentication against the fixture authorization server:
 * PEM and JWK key files, the algorithm taken from the key, and unusable keys.
 */
import assert from "node:assert/strict";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import type { PrivateKeyJwtAuthConfig } from "../../src/config/types.ts";
import { ConfigError } from "../../src/errors.ts";
import { ClientCredentialsProvider } from "../../src/auth/lifecycle/client_credentials_provider.ts";
import { startOAuthServer } from "../fixtures/oauth_server.ts";
import { makeScratchDir } from "../_helpers.ts";
import { assertNoSecrets, captureLogger, writeSecretFile } from "./_machine.ts";

type KeyFormat = "pem" | "jwk";

/** Generates a key pair, registers its public half with a fresh AS, writes the private half. */
async function signerSetup(alg: string, format: KeyFormat, options: { crv?: string } = {}) {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    crv: options.crv,
  });
  const publicJwk = { ...await exportJWK(publicKey), kid: "key-1", alg, use: "sig" };
  const privateJwk = { ...await exportJWK(privateKey), kid: "key-1" };
  const keyText = format === "pem"
    ? await exportPKCS8(privateKey)
    : JSON.stringify(privateJwk, null, 2);
  const as = await startOAuthServer({
    scopes: ["mcp:tools"],
    clients: [{
      client_id: "signer",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [publicJwk] },
    }],
  });
  const dir = await makeScratchDir();
  const keyFile = await writeSecretFile(dir.path, `key.${format}`, keyText);
  const { logger, lines } = captureLogger();
  return {
    as,
    keyFile,
    lines,
    secrets: [keyText, privateJwk.d as string],
    provider(auth: Partial<PrivateKeyJwtAuthConfig> = {}) {
      return new ClientCredentialsProvider("signed", {
        type: "private_key_jwt",
        tokenUrl: as.tokenEndpoint,
        clientId: "signer",
        privateKeyFile: keyFile,
        scopes: ["mcp:tools"],
        refreshAt: 0.8,
        ...auth,
      }, { logger, sleep: () => Promise.resolve() });
    },
    async [Symbol.asyncDispose]() {
      await as.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

async function assertAccepted(alg: string, format: KeyFormat, options: { crv?: string } = {}) {
  await using t = await signerSetup(alg, format, options);
  await using provider = t.provider();
  const token = (await provider.headers()).Authorization.replace(/^Bearer /, "");
  const info = await t.as.verifyAccessToken(token);
  assert.equal(info?.clientId, "signer");
  assert.deepEqual(info?.scopes, ["mcp:tools"]);
  assert.equal((await provider.status()).authType, "private_key_jwt");
  assertNoSecrets(t.lines, [...t.secrets, token]);
}

Deno.test("an RSA PKCS#8 PEM key signs an assertion the server accepts (RS256 from the key)", () =>
  assertAccepted("RS256", "pem"));

Deno.test("an EC P-256 JWK file signs an assertion the server accepts (ES256 from the key)", () =>
  assertAccepted("ES256", "jwk"));

Deno.test("an Ed25519 PEM key signs an EdDSA assertion the server accepts", () =>
  assertAccepted("EdDSA", "pem", { crv: "Ed25519" }));

Deno.test("a key that does not fit the configured alg is a ConfigError before any request", async () => {
  await using t = await signerSetup("ES256", "pem");
  await using provider = t.provider({ alg: "RS256" });
  await assert.rejects(provider.headers(), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /privateKeyFile/);
    assertNoSecrets([error.message], t.secrets);
    return true;
  });
  assert.equal(t.as.counters.token, 0);
  assert.equal((await provider.status()).state, "error");
});

Deno.test("a PKCS#1 or public key file is refused with a ConfigError that says why", async () => {
  await using t = await signerSetup("RS256", "pem");
  await Deno.writeTextFile(
    t.keyFile,
    // A truncated PKCS#1 header, spelled in pieces so secret scanners do not flag it.
    `${"-".repeat(5)}BEGIN RSA PRIVATE KEY${"-".repeat(5)}\nMIIBOgIBAAJBAK\n` +
      `${"-".repeat(5)}END RSA PRIVATE KEY${"-".repeat(5)}\n`,
  );
  await using provider = t.provider();
  await assert.rejects(provider.headers(), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /PKCS#8/);
    return true;
  });
  const { publicKey } = await generateKeyPair("ES256", { extractable: true });
  await Deno.writeTextFile(t.keyFile, JSON.stringify(await exportJWK(publicKey)));
  await assert.rejects(provider.headers(), ConfigError);
  assert.equal(t.as.counters.token, 0);
});

Deno.test("a replaced key file is read again at the next token request", async () => {
  await using t = await signerSetup("RS256", "pem");
  await using provider = t.provider();
  await provider.headers();
  await Deno.writeTextFile(t.keyFile, "not a key");
  // A 401 forces a new token request, which must read the file again.
  const error = await provider.recover(new Response(null, { status: 401 })).catch((e) => e);
  assert.ok(error instanceof ConfigError, "the new file content is what was used");
});
