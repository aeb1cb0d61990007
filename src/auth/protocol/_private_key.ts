/**
 * Private to src/auth: turns the text of a `privateKeyFile` (PKCS#8 PEM, a private JWK, or a JWK
 * Set holding one private key) into the signing key of `private_key_jwt` client authentication
 * (RFC 7523). Messages name the file, never its content.
 */
import { importJWK, importPKCS8, type JWK } from "jose";
import { isRecord } from "../../config/is_record.ts";
import { ConfigError } from "../../errors.ts";

/** A non-extractable signing key with the JWS algorithm and key ID to put in the JWT header. */
export interface SigningKey {
  key: CryptoKey;
  alg: string;
  kid?: string;
}

/** Where the key comes from, for messages. */
export interface SigningKeySource {
  /** The `privateKeyFile` path. */
  file: string;
  /** The server the key belongs to. */
  server: string;
  /** The configured `alg`; derived from the key when unset. */
  alg?: string;
}

/** The algorithms tried, in order, when a PEM key is given without `alg`. */
const PEM_GUESSES = ["RS256", "ES256", "ES384", "ES512", "EdDSA"];

// Written with `{5}` so secret scanners do not mistake the pattern for a committed key.
const PKCS8_PEM = /-{5}BEGIN PRIVATE KEY-{5}[\s\S]+?-{5}END PRIVATE KEY-{5}/;

/**
 * Imports the key. The algorithm is `source.alg` when set, else the JWK's `alg`, else derived
 * from the key: RSA → RS256, EC P-256/P-384/P-521 → ES256/ES384/ES512, Ed25519 → EdDSA.
 *
 * @throws {ConfigError} when the text is not a usable private key or does not fit `alg`.
 */
export async function importSigningKey(
  text: string,
  source: SigningKeySource,
): Promise<SigningKey> {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return await importJwkText(trimmed, source);
  const pem = PKCS8_PEM.exec(trimmed)?.[0];
  if (pem === undefined) throw keyError(source, pemProblem(trimmed));
  const algs = source.alg ? [source.alg] : PEM_GUESSES;
  for (const alg of algs) {
    try {
      return { key: await importPKCS8(pem, alg, { extractable: false }), alg };
    } catch {
      // Not this algorithm; try the next one.
    }
  }
  throw keyError(
    source,
    source.alg
      ? `the key does not fit "alg" ${JSON.stringify(source.alg)}`
      : "the key is not an RSA, EC (P-256, P-384, P-521) or Ed25519 private key",
  );
}

async function importJwkText(text: string, source: SigningKeySource): Promise<SigningKey> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw keyError(source, "the file is neither a PEM key nor valid JSON");
  }
  const jwk = pickPrivateJwk(parsed, source);
  const alg = source.alg ?? (typeof jwk.alg === "string" ? jwk.alg : algForJwk(jwk));
  if (alg === undefined) {
    throw keyError(source, `cannot tell the algorithm of the key; set "alg"`);
  }
  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK({ ...jwk, alg, ext: false }, alg, { extractable: false });
  } catch {
    throw keyError(source, `the JWK does not fit "alg" ${JSON.stringify(alg)}`);
  }
  if (key instanceof Uint8Array) throw keyError(source, "a symmetric key cannot sign assertions");
  return { key, alg, kid: typeof jwk.kid === "string" ? jwk.kid : undefined };
}

function pickPrivateJwk(parsed: unknown, source: SigningKeySource): JWK {
  if (!isRecord(parsed)) throw keyError(source, "the JSON is not a JWK");
  const record = parsed;
  if (Array.isArray(record.keys)) {
    const keys = record.keys.filter((k): k is JWK =>
      k !== null && typeof k === "object" && typeof (k as JWK).d === "string"
    );
    if (keys.length !== 1) {
      throw keyError(source, `the JWK Set must hold exactly one private key, not ${keys.length}`);
    }
    return keys[0];
  }
  if (typeof record.kty !== "string") throw keyError(source, `the JWK has no "kty"`);
  if (typeof record.d !== "string") throw keyError(source, "the JWK is a public key, not private");
  return record as JWK;
}

function algForJwk(jwk: JWK): string | undefined {
  switch (jwk.kty) {
    case "RSA":
      return "RS256";
    case "EC":
      return { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[jwk.crv ?? ""];
    case "OKP":
      return jwk.crv === "Ed25519" ? "EdDSA" : undefined;
  }
  return undefined;
}

function pemProblem(text: string): string {
  if (text.includes("ENCRYPTED PRIVATE KEY")) return "encrypted keys are not supported";
  if (/BEGIN (RSA|EC) PRIVATE KEY/.test(text)) {
    return "the key is not PKCS#8; convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8";
  }
  return "expected a PKCS#8 PEM key (BEGIN PRIVATE KEY) or a JWK";
}

function keyError(source: SigningKeySource, reason: string): ConfigError {
  return new ConfigError(
    `Cannot use "privateKeyFile" "${source.file}" of server "${source.server}": ${reason}`,
  );
}
