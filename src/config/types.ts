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
  type: "oauth";
  clientId?: string;
  clientSecret?: SecretSource;
  clientMetadataUrl?: string;
  scopes?: string[];
  callbackPort?: number;
  redirectUri?: string;
}

/** `{"type":"client_credentials"}`: a machine token from `tokenUrl`. */
export interface ClientCredentialsAuthConfig {
  type: "client_credentials";
  tokenUrl: string;
  clientId: SecretSource;
  clientSecret: SecretSource;
  scopes?: string[];
  resource?: string;
  audience?: string;
  /** Fraction of the lifetime after which the token is refreshed; default 0.8. */
  refreshAt: number;
}

/** `{"type":"private_key_jwt"}`: client_credentials authenticated with a signed JWT. */
export interface PrivateKeyJwtAuthConfig {
  type: "private_key_jwt";
  tokenUrl: string;
  clientId: string;
  privateKeyFile: string;
  alg?: string;
  scopes?: string[];
  resource?: string;
  audience?: string;
  refreshAt: number;
}

/** `{"type":"bearer"}`: a static bearer token. */
export interface BearerAuthConfig {
  type: "bearer";
  token: SecretSource;
}

/** `{"type":"api_key"}`: a static key sent in `header` (default `X-API-Key`). */
export interface ApiKeyAuthConfig {
  type: "api_key";
  header: string;
  key: SecretSource;
}

/** `{"type":"basic"}`: HTTP basic authentication. */
export interface BasicAuthConfig {
  type: "basic";
  username: string;
  password: SecretSource;
}

/** Every supported `auth` block. */
export type AuthConfig =
  | OAuthAuthConfig
  | ClientCredentialsAuthConfig
  | PrivateKeyJwtAuthConfig
  | BearerAuthConfig
  | ApiKeyAuthConfig
  | BasicAuthConfig;

/** Fields common to every server entry. */
interface ServerConfigBase {
  /** The server's name in config (`^[a-zA-Z0-9_-]{1,64}$`). */
  name: string;
  enabled: boolean;
  auth?: AuthConfig;
  /** A bearer token from `TOOLSCRIPT_TOKEN_<SERVER>` (or `MCP_AUTH_TOKEN` for `default`). */
  tokenOverride?: string;
  /** When credentials are missing, connect without them instead of failing. */
  allowUnauthenticated: boolean;
  /** Per-server connect timeout in ms. */
  timeoutMs: number;
}

/** A server spawned as a child process speaking MCP over stdio. */
export interface StdioServerConfig extends ServerConfigBase {
  type: "stdio";
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** A remote server over streamable HTTP or legacy SSE. */
export interface RemoteServerConfig extends ServerConfigBase {
  type: "http" | "sse";
  url: string;
  headers: Record<string, string>;
  allowInsecureHttp: boolean;
}

/** One configured upstream MCP server. */
export type ServerConfig = StdioServerConfig | RemoteServerConfig;

/** The gateway's own endpoint settings. */
export interface GatewayConfig {
  host: string;
  port: number;
}

/** A loaded config. */
export interface Config {
  /** Absolute path of the file it came from, or undefined for the ad-hoc `MCP_SERVER_URL` config. */
  file?: string;
  /** How the file was found; `flag` means `--config` was given. */
  source: "flag" | "env" | "cwd" | "xdg" | "adhoc";
  gateway: GatewayConfig;
  /** Every server, enabled or not, in file order. */
  servers: ServerConfig[];
  /** Secret values met while loading (for the redactor). */
  secrets: string[];
}
