import assert from "node:assert/strict";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { ConfigError } from "../../errors.ts";
import { importSigningKey } from "./_private_key.ts";

const SOURCE = { file: "/run/secrets/key", server: "signed" };

const CASES = [
  { generate: "RS256", expected: "RS256" },
  { generate: "ES256", expected: "ES256" },
  { generate: "ES384", expected: "ES384" },
  { generate: "ES512", expected: "ES512" },
  { generate: "EdDSA", expected: "EdDSA" },
];

for (const { generate, expected } of CASES) {
  Deno.test(`importSigningKey() derives ${expected} from a ${generate} PEM key and JWK`, async () => {
    const { privateKey } = await generateKeyPair(generate, { extractable: true });
    const fromPem = await importSigningKey(await exportPKCS8(privateKey), SOURCE);
    assert.equal(fromPem.alg, expected);
    assert.equal(fromPem.key.extractable, false);
    assert.equal(fromPem.kid, undefined);
    const jwk = { ...await exportJWK(privateKey), kid: "k1" };
    const fromJwk = await importSigningKey(JSON.stringify(jwk), SOURCE);
    assert.equal(fromJwk.alg, expected);
    assert.equal(fromJwk.kid, "k1");
  });
}

Deno.test("importSigningKey() honours a configured alg that fits the key", async () => {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const key = await importSigningKey(await exportPKCS8(privateKey), { ...SOURCE, alg: "PS384" });
  assert.equal(key.alg, "PS384");
  assert.equal(key.key.algorithm.name, "RSA-PSS");
});

Deno.test("importSigningKey() takes the one private key of a JWK Set", async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const keys = [
    { ...await exportJWK(pair.publicKey), kid: "public" },
    { ...await exportJWK(pair.privateKey), kid: "private" },
  ];
  const key = await importSigningKey(JSON.stringify({ keys }), SOURCE);
  assert.equal(key.kid, "private");
  await assert.rejects(
    importSigningKey(JSON.stringify({ keys: [keys[1], keys[1]] }), SOURCE),
    ConfigError,
  );
});

Deno.test("importSigningKey() refuses text that is not a private key, naming the file only", async () => {
  for (const text of ["", "hello", "{}", "[1]", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n"]) {
    await assert.rejects(importSigningKey(text, SOURCE), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /\/run\/secrets\/key/);
      assert.match(error.message, /"signed"/);
      return true;
    });
  }
});
