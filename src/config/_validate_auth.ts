/**
 * Private to src/config: validates the `auth` block of one http/sse server into an
 * {@link AuthConfig}.
 */
import { ConfigError } from "../errors.ts";
import { Fields, joinPath, secretKeys, type ValidationContext } from "./_fields.ts";
import type { AuthConfig, SecretSource } from "./types.ts";

const AUTH_TYPES = [
  "oauth",
  "client_credentials",
  "private_key_jwt",
  "jwt_bearer",
  "enterprise_managed",
  "bearer",
  "api_key",
  "basic",
] as const;

const JWT_ALGS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

const TOKEN_REQUEST_KEYS = ["scopes", "resource", "audience", "refreshAt", "dpop"] as const;

/** Where an auth block sits and what its server allows. */
export interface AuthWhere {
  /** JSON path of the block, e.g. `mcpServers.github.auth`. */
  path: string;
  server: string;
  allowInsecureHttp: boolean;
}

/** Validates an `auth` block; secrets met are added to `ctx.secrets`. */
export function validateAuth(ctx: ValidationContext, raw: unknown, where: AuthWhere): AuthConfig {
  const f = new Fields(ctx, raw, where.path, `the "auth" block of server "${where.server}"`);
  if (!f.has("type")) {
    f.fail("type", `Missing "type"; one of ${AUTH_TYPES.map((t) => `"${t}"`).join(", ")}`);
  }
  const type = f.oneOf("type", AUTH_TYPES)!;
  const what = `"${type}" auth`;
  const insecure = where.allowInsecureHttp;
  const need = (source: SecretSource | undefined, base: string): SecretSource =>
    source ?? f.fail(base, `Missing "${base}", "${base}File" or "${base}Env": ${what} needs one`);

  switch (type) {
    case "oauth": {
      f.allowKeys([
        "type",
        "clientId",
        ...secretKeys("clientSecret"),
        "clientMetadataUrl",
        "scopes",
        "callbackPort",
        "redirectUri",
        "dpop",
      ], what);
      const redirectUri = f.string("redirectUri");
      if (redirectUri !== undefined && !URL.canParse(redirectUri)) {
        f.fail("redirectUri", `Invalid "redirectUri"; expected an absolute URL`);
      }
      return {
        type,
        clientId: f.string("clientId"),
        clientSecret: f.secretSource("clientSecret"),
        clientMetadataUrl: f.url("clientMetadataUrl", insecure),
        scopes: scopes(f),
        callbackPort: f.number("callbackPort", { integer: true, min: 1, max: 65535 }),
        redirectUri,
        ...(f.has("dpop") ? { dpop: f.boolean("dpop", true) } : {}),
      };
    }
    case "client_credentials": {
      f.allowKeys([
        "type",
        "tokenUrl",
        ...secretKeys("clientId"),
        ...secretKeys("clientSecret"),
        ...TOKEN_REQUEST_KEYS,
      ], what);
      return {
        type,
        tokenUrl: requiredUrl(f, "tokenUrl", what, insecure),
        clientId: need(f.secretSource("clientId", false), "clientId"),
        clientSecret: need(f.secretSource("clientSecret"), "clientSecret"),
        ...tokenRequest(f),
      };
    }
    case "private_key_jwt": {
      f.allowKeys([
        "type",
        "tokenUrl",
        "clientId",
        "privateKeyFile",
        "alg",
        ...TOKEN_REQUEST_KEYS,
      ], what);
      const privateKeyFile = f.filePath("privateKeyFile") ??
        f.fail("privateKeyFile", `Missing "privateKeyFile": ${what} needs a PEM or JWK file`);
      return {
        type,
        tokenUrl: requiredUrl(f, "tokenUrl", what, insecure),
        clientId: f.requiredString("clientId", what),
        privateKeyFile,
        alg: f.oneOf("alg", JWT_ALGS),
        ...tokenRequest(f),
      };
    }
    case "jwt_bearer": {
      f.allowKeys([
        "type",
        "tokenUrl",
        "clientId",
        ...secretKeys("clientSecret"),
        ...secretKeys("assertion"),
        ...TOKEN_REQUEST_KEYS,
      ], what);
      const clientId = f.string("clientId");
      const clientSecret = f.secretSource("clientSecret");
      if (clientSecret && clientId === undefined) {
        f.fail("clientId", `Missing "clientId": a client secret needs the client it belongs to`);
      }
      return {
        type,
        tokenUrl: requiredUrl(f, "tokenUrl", what, insecure),
        clientId,
        clientSecret,
        assertion: need(f.secretSource("assertion"), "assertion"),
        ...tokenRequest(f),
      };
    }
    case "enterprise_managed": {
      f.allowKeys([
        "type",
        "tokenUrl",
        "clientId",
        ...secretKeys("clientSecret"),
        "idpTokenUrl",
        "idpClientId",
        ...secretKeys("idpClientSecret"),
        ...secretKeys("idToken"),
        ...TOKEN_REQUEST_KEYS,
      ], what);
      return {
        type,
        tokenUrl: requiredUrl(f, "tokenUrl", what, insecure),
        clientId: f.requiredString("clientId", what),
        clientSecret: f.secretSource("clientSecret"),
        idpTokenUrl: requiredUrl(f, "idpTokenUrl", what, insecure),
        idpClientId: f.requiredString("idpClientId", what),
        idpClientSecret: f.secretSource("idpClientSecret"),
        idToken: need(f.secretSource("idToken"), "idToken"),
        ...tokenRequest(f),
      };
    }
    case "bearer":
      f.allowKeys(["type", ...secretKeys("token")], what);
      return { type, token: need(f.secretSource("token"), "token") };
    case "api_key": {
      f.allowKeys(["type", "header", ...secretKeys("key")], what);
      const header = f.string("header") ?? "X-API-Key";
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(header)) {
        f.fail("header", "Invalid header name; use letters, digits and -_.!#$%&'*+^`|~ only");
      }
      return { type, header, key: need(f.secretSource("key"), "key") };
    }
    case "basic": {
      f.allowKeys(["type", "username", ...secretKeys("password")], what);
      const username = f.requiredString("username", what);
      if (username.includes(":")) f.fail("username", `A basic auth "username" cannot contain ":"`);
      return { type, username, password: need(f.secretSource("password"), "password") };
    }
  }
}

function requiredUrl(f: Fields, key: string, what: string, insecure: boolean): string {
  return f.url(key, insecure) ?? f.fail(key, `Missing "${key}": ${what} needs it`);
}

function scopes(f: Fields): string[] | undefined {
  const list = f.stringArray("scopes");
  list?.forEach((scope, i) => {
    if (scope === "" || /\s/.test(scope)) {
      throw new ConfigError("Invalid scope; write each scope as its own array item", {
        file: f.ctx.file,
        path: joinPath(f.at("scopes"), i),
      });
    }
  });
  return list;
}

function tokenRequest(f: Fields) {
  return {
    scopes: scopes(f),
    resource: f.string("resource"),
    audience: f.string("audience"),
    refreshAt: f.number("refreshAt", { above: 0, below: 1 }) ?? 0.8,
    ...(f.has("dpop") ? { dpop: f.boolean("dpop", true) } : {}),
  };
}
