import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { configError, envOf } from "./_testing.ts";
import type {
  ApiKeyAuthConfig,
  PrivateKeyJwtAuthConfig,
  RemoteServerConfig,
  StdioServerConfig,
} from "./types.ts";
import { validateConfig } from "./validate_config.ts";

// The auth blocks are validated by _validate_auth.ts, through validateConfig().

const FILE = "/etc/toolscript/config.json";

function validate(raw: unknown, env: Record<string, string> = {}) {
  return validateConfig(raw, { file: FILE, source: "flag", env: envOf(env) });
}

/** An http server `s` with an auth block. */
function withAuth(auth: unknown, extra: Record<string, unknown> = {}) {
  return { mcpServers: { s: { url: "https://mcp.example/mcp", auth, ...extra } } };
}

const CC = {
  type: "client_credentials",
  tokenUrl: "https://as.example/token",
  clientId: "id",
  clientSecret: "sec",
};
const PKJ = {
  type: "private_key_jwt",
  tokenUrl: "https://as.example/token",
  clientId: "id",
  privateKeyFile: "/k.pem",
};

const JWTB = {
  type: "jwt_bearer",
  tokenUrl: "https://as.example/token",
  assertionFile: "/var/run/secrets/tokens/mcp",
};
const EMA = {
  type: "enterprise_managed",
  tokenUrl: "https://as.example/token",
  clientId: "id",
  idpTokenUrl: "https://idp.example/token",
  idpClientId: "idp-id",
  idTokenFile: "/run/idp/id_token",
};

const INVALID: { name: string; raw: unknown; env?: Record<string, string>; path?: string }[] = [
  // auth, any type.
  {
    name: "an auth block that is not an object",
    raw: withAuth("oauth"),
    path: "mcpServers.s.auth",
  },
  {
    name: "an auth block without type",
    raw: withAuth({ scopes: [] }),
    path: "mcpServers.s.auth.type",
  },
  {
    name: "an unknown auth type",
    raw: withAuth({ type: "kerberos" }),
    path: "mcpServers.s.auth.type",
  },
  {
    name: "an unknown auth key",
    raw: withAuth({ type: "oauth", clientid: "x" }),
    path: "mcpServers.s.auth.clientid",
  },
  // oauth.
  {
    name: "an oauth callbackPort of 0",
    raw: withAuth({ type: "oauth", callbackPort: 0 }),
    path: "mcpServers.s.auth.callbackPort",
  },
  {
    name: "an oauth callbackPort above 65535",
    raw: withAuth({ type: "oauth", callbackPort: 65536 }),
    path: "mcpServers.s.auth.callbackPort",
  },
  {
    name: "oauth scopes that are a string",
    raw: withAuth({ type: "oauth", scopes: "repo" }),
    path: "mcpServers.s.auth.scopes",
  },
  {
    name: "an oauth scope with a space",
    raw: withAuth({ type: "oauth", scopes: ["a", "repo read"] }),
    path: "mcpServers.s.auth.scopes[1]",
  },
  {
    name: "an http:// remote clientMetadataUrl",
    raw: withAuth({ type: "oauth", clientMetadataUrl: "http://cimd.example/c.json" }),
    path: "mcpServers.s.auth.clientMetadataUrl",
  },
  {
    name: "an oauth redirectUri that does not parse",
    raw: withAuth({ type: "oauth", redirectUri: "/callback" }),
    path: "mcpServers.s.auth.redirectUri",
  },
  {
    name: "an oauth clientSecret given twice",
    raw: withAuth({ type: "oauth", clientSecret: "a", clientSecretFile: "/s" }),
    path: "mcpServers.s.auth.clientSecretFile",
  },
  // client_credentials.
  {
    name: "client_credentials without tokenUrl",
    raw: withAuth({ ...CC, tokenUrl: undefined }),
    path: "mcpServers.s.auth.tokenUrl",
  },
  {
    name: "client_credentials with an http:// remote tokenUrl",
    raw: withAuth({ ...CC, tokenUrl: "http://as.example/token" }),
    path: "mcpServers.s.auth.tokenUrl",
  },
  {
    name: "client_credentials without clientId",
    raw: withAuth({ ...CC, clientId: undefined }),
    path: "mcpServers.s.auth.clientId",
  },
  {
    name: "client_credentials with clientId and clientIdFile",
    raw: withAuth({ ...CC, clientIdFile: "/id" }),
    path: "mcpServers.s.auth.clientIdFile",
  },
  {
    name: "client_credentials without clientSecret",
    raw: withAuth({ ...CC, clientSecret: undefined }),
    path: "mcpServers.s.auth.clientSecret",
  },
  {
    name: "client_credentials with two secret sources",
    raw: withAuth({ ...CC, clientSecret: undefined, clientSecretFile: "/s", clientSecretEnv: "S" }),
    path: "mcpServers.s.auth.clientSecretEnv",
  },
  {
    name: "a clientSecretEnv naming an unset variable",
    raw: withAuth({ ...CC, clientSecret: undefined, clientSecretEnv: "CC_SECRET" }),
    path: "mcpServers.s.auth.clientSecretEnv",
  },
  {
    name: "a clientSecretEnv that is not a variable name",
    raw: withAuth({ ...CC, clientSecret: undefined, clientSecretEnv: "A-B" }),
    path: "mcpServers.s.auth.clientSecretEnv",
  },
  {
    name: "an empty literal clientSecret",
    raw: withAuth({ ...CC, clientSecret: "" }),
    path: "mcpServers.s.auth.clientSecret",
  },
  {
    name: "a refreshAt of 1",
    raw: withAuth({ ...CC, refreshAt: 1 }),
    path: "mcpServers.s.auth.refreshAt",
  },
  {
    name: "a refreshAt of 0",
    raw: withAuth({ ...CC, refreshAt: 0 }),
    path: "mcpServers.s.auth.refreshAt",
  },
  {
    name: "a non-string audience",
    raw: withAuth({ ...CC, audience: 5 }),
    path: "mcpServers.s.auth.audience",
  },
  // private_key_jwt.
  {
    name: "private_key_jwt without privateKeyFile",
    raw: withAuth({ ...PKJ, privateKeyFile: undefined }),
    path: "mcpServers.s.auth.privateKeyFile",
  },
  {
    name: "private_key_jwt without clientId",
    raw: withAuth({ ...PKJ, clientId: undefined }),
    path: "mcpServers.s.auth.clientId",
  },
  {
    name: "private_key_jwt without tokenUrl",
    raw: withAuth({ ...PKJ, tokenUrl: undefined }),
    path: "mcpServers.s.auth.tokenUrl",
  },
  {
    name: "private_key_jwt with an unknown alg",
    raw: withAuth({ ...PKJ, alg: "HS256" }),
    path: "mcpServers.s.auth.alg",
  },
  {
    name: "private_key_jwt with a refreshAt above 1",
    raw: withAuth({ ...PKJ, refreshAt: 2 }),
    path: "mcpServers.s.auth.refreshAt",
  },
  // jwt_bearer, enterprise_managed.
  {
    name: "jwt_bearer without an assertion",
    raw: withAuth({ ...JWTB, assertionFile: undefined }),
    path: "mcpServers.s.auth.assertion",
  },
  {
    name: "jwt_bearer with assertionFile and assertionEnv",
    raw: withAuth({ ...JWTB, assertionEnv: "T" }),
    path: "mcpServers.s.auth.assertionEnv",
  },
  {
    name: "jwt_bearer with a client secret but no clientId",
    raw: withAuth({ ...JWTB, clientSecret: "s" }),
    path: "mcpServers.s.auth.clientId",
  },
  {
    name: "jwt_bearer without tokenUrl",
    raw: withAuth({ ...JWTB, tokenUrl: undefined }),
    path: "mcpServers.s.auth.tokenUrl",
  },
  {
    name: "enterprise_managed without idTokenFile",
    raw: withAuth({ ...EMA, idTokenFile: undefined }),
    path: "mcpServers.s.auth.idToken",
  },
  {
    name: "enterprise_managed without idpTokenUrl",
    raw: withAuth({ ...EMA, idpTokenUrl: undefined }),
    path: "mcpServers.s.auth.idpTokenUrl",
  },
  {
    name: "enterprise_managed with a plain-http idpTokenUrl",
    raw: withAuth({ ...EMA, idpTokenUrl: "http://idp.example/token" }),
    path: "mcpServers.s.auth.idpTokenUrl",
  },
  {
    name: "enterprise_managed without idpClientId",
    raw: withAuth({ ...EMA, idpClientId: undefined }),
    path: "mcpServers.s.auth.idpClientId",
  },
  {
    name: "oauth with a dpop that is not a boolean",
    raw: withAuth({ type: "oauth", dpop: "yes" }),
    path: "mcpServers.s.auth.dpop",
  },
  // bearer, api_key, basic.
  {
    name: "bearer without token",
    raw: withAuth({ type: "bearer" }),
    path: "mcpServers.s.auth.token",
  },
  {
    name: "bearer with token and tokenEnv",
    raw: withAuth({ type: "bearer", token: "t", tokenEnv: "T" }),
    path: "mcpServers.s.auth.tokenEnv",
  },
  {
    name: "a tokenEnv naming an unset variable",
    raw: withAuth({ type: "bearer", tokenEnv: "NOPE" }),
    path: "mcpServers.s.auth.tokenEnv",
  },
  {
    name: "api_key without key",
    raw: withAuth({ type: "api_key" }),
    path: "mcpServers.s.auth.key",
  },
  {
    name: "api_key with an invalid header name",
    raw: withAuth({ type: "api_key", header: "X Key", key: "k" }),
    path: "mcpServers.s.auth.header",
  },
  {
    name: "basic without username",
    raw: withAuth({ type: "basic", password: "p" }),
    path: "mcpServers.s.auth.username",
  },
  {
    name: "basic with a colon in username",
    raw: withAuth({ type: "basic", username: "a:b", password: "p" }),
    path: "mcpServers.s.auth.username",
  },
  {
    name: "basic without password",
    raw: withAuth({ type: "basic", username: "u" }),
    path: "mcpServers.s.auth.password",
  },
  {
    name: "basic with password and passwordFile",
    raw: withAuth({ type: "basic", username: "u", password: "p", passwordFile: "/p" }),
    path: "mcpServers.s.auth.passwordFile",
  },
];

for (const { name, raw, env, path } of INVALID) {
  Deno.test(`validateConfig() rejects ${name} at its JSON path`, () => {
    const error = configError(() => validate(raw, env));
    assert.equal(error.path, path);
    assert.equal(error.file, FILE);
    assert.equal(error.code, "config");
  });
}

Deno.test("validateConfig() maps secret sources and resolves relative files against the config", () => {
  const config = validate({
    mcpServers: {
      cc: {
        url: "https://a.example",
        auth: {
          ...CC,
          clientId: undefined,
          clientIdFile: "secrets/id",
          clientSecret: undefined,
          clientSecretEnv: "CC_SECRET",
          scopes: ["mcp:tools"],
          resource: "https://a.example",
          audience: "api",
        },
      },
      jwt: {
        url: "https://b.example",
        auth: { ...PKJ, privateKeyFile: "../keys/k.pem", alg: "ES256" },
      },
      key: { url: "https://c.example", auth: { type: "api_key", keyFile: "/run/secrets/key" } },
      local: { command: "x", cwd: "work" },
    },
  }, { CC_SECRET: "cc-secret-value" });
  const [cc, jwt, key, local] = config.servers as [
    RemoteServerConfig,
    RemoteServerConfig,
    RemoteServerConfig,
    StdioServerConfig,
  ];
  assert.deepEqual(cc.auth, {
    type: "client_credentials",
    tokenUrl: "https://as.example/token",
    clientId: { file: "/etc/toolscript/secrets/id" },
    clientSecret: { env: "CC_SECRET", envValue: "cc-secret-value" },
    scopes: ["mcp:tools"],
    resource: "https://a.example",
    audience: "api",
    refreshAt: 0.8,
  });
  const jwtAuth = jwt.auth as PrivateKeyJwtAuthConfig;
  assert.equal(jwtAuth.privateKeyFile, "/etc/keys/k.pem");
  assert.equal(jwtAuth.alg, "ES256");
  assert.equal(jwtAuth.refreshAt, 0.8);
  assert.deepEqual(key.auth as ApiKeyAuthConfig, {
    type: "api_key",
    header: "X-API-Key",
    key: { file: "/run/secrets/key" },
  });
  assert.equal(local.cwd, "/etc/toolscript/work");
  assert.deepEqual(config.secrets, ["cc-secret-value"]);
});

Deno.test("validateConfig() refuses relative secret files when there is no config file", () => {
  assert.throws(
    () =>
      validateConfig(withAuth({ type: "bearer", tokenFile: "token" }), {
        source: "adhoc",
        env: () => undefined,
      }),
    ConfigError,
  );
});

Deno.test("validateConfig() maps jwt_bearer, enterprise_managed and oauth dpop", () => {
  const config = validate({
    mcpServers: {
      wif: { url: "https://a.example/mcp", auth: { ...JWTB, clientId: "ci", scopes: ["mcp"] } },
      ema: { url: "https://b.example/mcp", auth: { ...EMA, clientSecretEnv: "EMA_SECRET" } },
      dp: { url: "https://c.example/mcp", auth: { type: "oauth", dpop: false } },
    },
  }, { EMA_SECRET: "ema-secret-value" });
  const [wif, ema, dp] = config.servers as RemoteServerConfig[];
  assert.deepEqual(wif.auth, {
    type: "jwt_bearer",
    tokenUrl: "https://as.example/token",
    clientId: "ci",
    clientSecret: undefined,
    assertion: { file: "/var/run/secrets/tokens/mcp" },
    scopes: ["mcp"],
    resource: undefined,
    audience: undefined,
    refreshAt: 0.8,
  });
  assert.deepEqual(ema.auth, {
    type: "enterprise_managed",
    tokenUrl: "https://as.example/token",
    clientId: "id",
    clientSecret: { env: "EMA_SECRET", envValue: "ema-secret-value" },
    idpTokenUrl: "https://idp.example/token",
    idpClientId: "idp-id",
    idpClientSecret: undefined,
    idToken: { file: "/run/idp/id_token" },
    scopes: undefined,
    resource: undefined,
    audience: undefined,
    refreshAt: 0.8,
  });
  assert.equal(dp.auth?.type === "oauth" && dp.auth.dpop, false);
  assert.deepEqual(config.secrets, ["ema-secret-value"]);
});
