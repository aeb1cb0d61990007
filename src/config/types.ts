/**
 * The typed, validated config that every other layer consumes. `loadConfig` produces it from
 * JSON after `${VAR}` expansion; nothing below `src/config` reads the environment itself.
 */

/** A secret given literally, by file (read when needed, trailing newline trimmed) or by env. */
export interface SecretSource {
  /** The literal value (after `${VAR}` expansion). */
  value?: string;
  /** A file to read the value from each time it is needed (rotated secrets are picked up). */
  file?: string;
  /** The value of this environment variable, captured at load time. */
  env?: string;
  /** The value of the variable named by `env`, captured at load time (undefined if unset). */
  envValue?: string;
}

/** `{"type":"oauth"}`: authorization code + PKCE, obtained by `toolscript auth`. */
export interface OAuthAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "oauth";
  /**
   * A client registered beforehand at the authorization server; `--client-id` overrides it.
   * Undefined: a client ID metadata document (`clientMetadataUrl`) or dynamic registration.
   */
  clientId?: string;
  /**
   * Secret of the pre-registered `clientId` (`clientSecret`, `clientSecretFile` or
   * `clientSecretEnv`); used only when the client in use is this `clientId`. Undefined: a
   * public client.
   */
  clientSecret?: SecretSource;
  /**
   * HTTPS URL of a client ID metadata document, used as the client ID when the authorization
   * server advertises `client_id_metadata_document_supported`; otherwise ignored.
   */
  clientMetadataUrl?: string;
  /**
   * Scopes to request, each a single token. `--scope` overrides them; undefined or empty: the
   * server's `WWW-Authenticate` scope hint, else its `scopes_supported`.
   */
  scopes?: string[];
  /**
   * Pins the loopback callback port (1 to 65535; `--callback-port` overrides it). Undefined:
   * the port of the stored registration, else the first free one of a built-in list.
   */
  callbackPort?: number;
  /**
   * An absolute redirect URI to register instead of the loopback default. A loopback `http:`
   * URI gets a listener on its port and path; any other is completed by pasting the redirect.
   */
  redirectUri?: string;
  /**
   * DPoP-bound tokens (RFC 9449), with a per-server key kept beside the tokens. Undefined: on
   * when the authorization server advertises `dpop_signing_alg_values_supported`; false: off.
   */
  dpop?: boolean;
}

/** `{"type":"client_credentials"}`: a machine token from `tokenUrl`. */
export interface ClientCredentialsAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "client_credentials";
  /** The token endpoint; `http:` only on loopback unless the server sets `allowInsecureHttp`. */
  tokenUrl: string;
  /** From `clientId`, `clientIdFile` or `clientIdEnv`; not treated as a secret. */
  clientId: SecretSource;
  /** From `clientSecret`, `clientSecretFile` or `clientSecretEnv`; files are re-read per request. */
  clientSecret: SecretSource;
  /** Sent space-joined as `scope`; undefined: no `scope` parameter. */
  scopes?: string[];
  /** Sent as the RFC 8707 `resource` parameter when set. */
  resource?: string;
  /** Sent as an `audience` parameter (as Auth0 and others expect) when set. */
  audience?: string;
  /** Fraction of the lifetime after which the token is refreshed, in (0, 1); default 0.8. */
  refreshAt: number;
  /**
   * DPoP-bound tokens (RFC 9449), with a key kept in memory. Undefined: on when the token
   * endpoint's metadata advertises `dpop_signing_alg_values_supported`; false: off.
   */
  dpop?: boolean;
}

/** `{"type":"private_key_jwt"}`: client_credentials authenticated with a signed JWT. */
export interface PrivateKeyJwtAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "private_key_jwt";
  /** The token endpoint; `http:` only on loopback unless the server sets `allowInsecureHttp`. */
  tokenUrl: string;
  /** The client ID, also the `iss` and `sub` of the signed assertion. */
  clientId: string;
  /**
   * Absolute path of a PKCS#8 PEM or JWK private key (relative paths in the file are resolved
   * against its directory); read again for every token request.
   */
  privateKeyFile: string;
  /**
   * JWS algorithm (`RS256` … `ES512`, `PS*`, `EdDSA`). Undefined: the JWK's `alg`, else derived
   * from the key (RSA → RS256, EC → ES256/ES384/ES512, Ed25519 → EdDSA).
   */
  alg?: string;
  /** Sent space-joined as `scope`; undefined: no `scope` parameter. */
  scopes?: string[];
  /** Sent as the RFC 8707 `resource` parameter when set. */
  resource?: string;
  /** Sent as an `audience` parameter when set. */
  audience?: string;
  /** Fraction of the lifetime after which the token is refreshed, in (0, 1); default 0.8. */
  refreshAt: number;
  /**
   * DPoP-bound tokens (RFC 9449), with a key kept in memory. Undefined: on when the token
   * endpoint's metadata advertises `dpop_signing_alg_values_supported`; false: off.
   */
  dpop?: boolean;
}

/**
 * `{"type":"jwt_bearer"}`: workload identity federation (RFC 7523 §2.1): an assertion issued
 * by the platform (e.g. a Kubernetes projected service-account token) is exchanged at
 * `tokenUrl` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
 */
export interface JwtBearerAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "jwt_bearer";
  /** The token endpoint; `http:` only on loopback unless the server sets `allowInsecureHttp`. */
  tokenUrl: string;
  /** Sent as `client_id` when set; undefined: the assertion alone identifies the workload. */
  clientId?: string;
  /**
   * From `clientSecret`, `clientSecretFile` or `clientSecretEnv`: authenticates `clientId`
   * (client_secret_basic, or _post when that is all the server offers). Undefined: none.
   */
  clientSecret?: SecretSource;
  /**
   * From `assertion`, `assertionFile` or `assertionEnv`; a file is read again for every token
   * request, as projected tokens rotate.
   */
  assertion: SecretSource;
  /** Sent space-joined as `scope`; undefined: no `scope` parameter. */
  scopes?: string[];
  /** Sent as the RFC 8707 `resource` parameter when set. */
  resource?: string;
  /** Sent as an `audience` parameter when set. */
  audience?: string;
  /** Fraction of the lifetime after which the token is refreshed, in (0, 1); default 0.8. */
  refreshAt: number;
  /**
   * DPoP-bound tokens (RFC 9449), with a key kept in memory. Undefined: on when the token
   * endpoint's metadata advertises `dpop_signing_alg_values_supported`; false: off.
   */
  dpop?: boolean;
}

/**
 * `{"type":"enterprise_managed"}`: enterprise-managed authorization (SEP-990). The user's ID
 * token from the enterprise IdP is exchanged at `idpTokenUrl` (RFC 8693) for an identity
 * assertion grant (ID-JAG) for this server, which is then exchanged at `tokenUrl` (RFC 7523
 * jwt-bearer) for the server's access token.
 */
export interface EnterpriseManagedAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "enterprise_managed";
  /** The token endpoint of the MCP server's authorization server. */
  tokenUrl: string;
  /** The client at the MCP server's authorization server. */
  clientId: string;
  /** From `clientSecret`, `clientSecretFile` or `clientSecretEnv`; undefined: a public client. */
  clientSecret?: SecretSource;
  /** The IdP's token endpoint, where the token exchange happens. */
  idpTokenUrl: string;
  /** The client at the IdP. */
  idpClientId: string;
  /** From `idpClientSecret`, `idpClientSecretFile` or `idpClientSecretEnv`; undefined: none. */
  idpClientSecret?: SecretSource;
  /** From `idToken`, `idTokenFile` or `idTokenEnv`: the user's ID token; files are re-read. */
  idToken: SecretSource;
  /**
   * The `audience` of the token exchange: the issuer of the MCP server's authorization server.
   * Undefined: the issuer its metadata names (found from `tokenUrl`).
   */
  audience?: string;
  /** The `resource` of the token exchange; undefined: the server's `url`. */
  resource?: string;
  /** Sent space-joined as `scope`; undefined: no `scope` parameter. */
  scopes?: string[];
  /** Fraction of the lifetime after which the token is refreshed, in (0, 1); default 0.8. */
  refreshAt: number;
  /**
   * DPoP-bound tokens (RFC 9449), with a key kept in memory. Undefined: on when the token
   * endpoint's metadata advertises `dpop_signing_alg_values_supported`; false: off.
   */
  dpop?: boolean;
}

/** `{"type":"bearer"}`: a static bearer token. */
export interface BearerAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "bearer";
  /** Sent as `Authorization: Bearer <token>`; from `token`, `tokenFile` or `tokenEnv`. */
  token: SecretSource;
}

/** `{"type":"api_key"}`: a static key sent in `header` (default `X-API-Key`). */
export interface ApiKeyAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "api_key";
  /** The header name (an HTTP token); `X-API-Key` when the config gives none. */
  header: string;
  /** The key, sent as the header's whole value; from `key`, `keyFile` or `keyEnv`. */
  key: SecretSource;
}

/** `{"type":"basic"}`: HTTP basic authentication. */
export interface BasicAuthConfig {
  /** Discriminant of {@link AuthConfig}. */
  type: "basic";
  /** The user name; never contains `:`. */
  username: string;
  /** From `password`, `passwordFile` or `passwordEnv`. */
  password: SecretSource;
}

/** Every supported `auth` block. */
export type AuthConfig =
  | OAuthAuthConfig
  | ClientCredentialsAuthConfig
  | PrivateKeyJwtAuthConfig
  | JwtBearerAuthConfig
  | EnterpriseManagedAuthConfig
  | BearerAuthConfig
  | ApiKeyAuthConfig
  | BasicAuthConfig;

/** Fields common to every server entry. */
export interface ServerConfigBase {
  /** The server's name in config (`^[a-zA-Z0-9_-]{1,64}$`). */
  name: string;
  /** False when the config says `enabled: false`: the server is listed but not connected. */
  enabled: boolean;
  /**
   * Set only for a disabled server whose entry does not validate (an unset variable, a missing
   * field): the config error it raises once enabled. Such an entry is a placeholder holding its
   * name, type and target (`url` or `command`) as written; every other field is a default.
   */
  configError?: string;
  /** How to authenticate; undefined means no credentials. Always undefined for stdio servers. */
  auth?: AuthConfig;
  /** A bearer token from `TOOLSCRIPT_TOKEN_<SERVER>` (or `MCP_AUTH_TOKEN` for `default`). */
  tokenOverride?: string;
  /** When credentials are missing, connect without them instead of failing. */
  allowUnauthenticated: boolean;
  /**
   * Timeout of the connect and of each request to the server, in ms (config `timeout` is in
   * seconds); default 30 000.
   */
  timeoutMs: number;
  /**
   * Put with `__` before the upstream's own tool and prompt names (`<prefix>__<name>`); `""`
   * exposes the upstream's names unchanged. Never contains `__`. `validateConfig` always sets
   * it (default: the server name); undefined means the server name.
   */
  prefix?: string;
  /** Which of the upstream's tools the gateway exposes; undefined: all of them. */
  tools?: ToolFilterConfig;
}

/**
 * `tools` of a server entry: globs over the upstream's own tool names, where `*` matches any
 * run of characters and every other character only itself. A tool is exposed when it matches
 * some `allow` glob (or `allow` is absent) and no `deny` glob: deny wins.
 */
export interface ToolFilterConfig {
  /** Only tools matching one of these are exposed; undefined: every tool (an empty list: none). */
  allow?: string[];
  /** Tools matching one of these are hidden, even when `allow` matches them. */
  deny?: string[];
}

/** A server spawned as a child process speaking MCP over stdio. */
export interface StdioServerConfig extends ServerConfigBase {
  /** Discriminant of {@link ServerConfig}; the default when `command` is set. */
  type: "stdio";
  /** The program to spawn, as given (looked up on `PATH` when not a path). */
  command: string;
  /** Its arguments; empty when the config gives none. */
  args: string[];
  /**
   * Variables for the child, on top of a short safe list (`PATH`, `HOME`, …); the gateway's
   * own environment is not inherited. Empty when the config gives none.
   */
  env: Record<string, string>;
  /** Absolute working directory of the child; undefined: the gateway's. */
  cwd?: string;
}

/** A remote server over streamable HTTP or legacy SSE. */
export interface RemoteServerConfig extends ServerConfigBase {
  /** `http` (streamable HTTP, the default) or `sse` (legacy SSE). */
  type: "http" | "sse";
  /** The server's MCP endpoint; `http:` only on loopback unless `allowInsecureHttp`. */
  url: string;
  /**
   * Static headers sent with every request; credential headers win over them. Empty when the
   * config gives none.
   */
  headers: Record<string, string>;
  /** Permits `http:` URLs (server, token, metadata) that are not loopback; default false. */
  allowInsecureHttp: boolean;
}

/** One configured upstream MCP server. */
export type ServerConfig = StdioServerConfig | RemoteServerConfig;

/** The gateway's own endpoint settings. */
export interface GatewayConfig {
  /** Interface the HTTP endpoint binds to; default `127.0.0.1`. `--host` overrides it. */
  host: string;
  /** TCP port; 0 picks any free port; default 3333. `--port` overrides it. */
  port: number;
  /**
   * Host names (lower case, as `URL.hostname` spells them: `[::1]`, punycode) that requests
   * may name in `Host` besides loopback names and the bound address; the guard against DNS
   * rebinding, also on a wildcard bind (`0.0.0.0`). Absent when the config gives none.
   */
  allowedHosts?: string[];
  /**
   * What `tools/list` offers clients: `tools` (default) every upstream tool, `code` only the
   * code-mode tools `toolscript__search`, `toolscript__types` and `toolscript__exec`, `both`
   * all of them. `--expose` overrides it. `loadConfig` always fills it in.
   */
  expose?: GatewayExpose;
  /**
   * `gateway.callers`: each caller's own bearer token by caller name. A request carrying one
   * acts as that caller: OAuth servers use the caller's credentials (`toolscript auth <server>
   * --caller <name>`). Absent when the config gives none.
   */
  callers?: Record<string, SecretSource>;
}

/** Values of {@link GatewayConfig.expose}. */
export type GatewayExpose = "tools" | "code" | "both";

/**
 * The top-level `store` block (or `$TOOLSCRIPT_STORE_URL`): credentials, the refresh lock and
 * change notifications in Redis, shared by every gateway configured with it.
 */
export interface StoreConfig {
  /** Discriminant; the file store has no block (`"type": "file"` validates to none). */
  type: "redis";
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`; may hold a password (a secret). */
  url: string;
  /** The AES-256-GCM key, base64 of 32 bytes: `encryptionKeyFile`, else `$TOOLSCRIPT_STORE_KEY`. */
  encryptionKey: SecretSource;
}

/** A loaded config. */
export interface Config {
  /** Absolute path of the file it came from, or undefined for the ad-hoc `MCP_SERVER_URL` config. */
  file?: string;
  /** How the file was found; `flag` means `--config` was given. */
  source: "flag" | "env" | "cwd" | "xdg" | "adhoc";
  /** The `gateway` block, defaults filled in. */
  gateway: GatewayConfig;
  /** Every server, enabled or not, in file order. */
  servers: ServerConfig[];
  /** The shared store; undefined: the file store under `$TOOLSCRIPT_HOME/credentials/`. */
  store?: StoreConfig;
  /** Secret values met while loading (for the redactor). */
  secrets: string[];
}
