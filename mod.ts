/**
 * toolscript as a library: load a config, keep tokens in a file store, build credential
 * providers, and run the aggregating MCP gateway in your own process.
 *
 * @example
 * ```ts ignore
 * import { createGateway, loadConfig, serveGatewayHttp } from "./mod.ts";
 * const config = await loadConfig({ env: Deno.env.get, cwd: Deno.cwd(), home: "/home/me" });
 * await using gateway = createGateway(config, { home: "/home/me/.toolscript" });
 * await gateway.start();
 * await using server = await serveGatewayHttp(gateway, { host: "127.0.0.1", port: 0 });
 * console.log(server.url);
 * ```
 * @module
 */

export { loadConfig } from "./src/config/load_config.ts";
export type { LoadConfigOptions } from "./src/config/load_config.ts";
export { validateConfig } from "./src/config/validate_config.ts";
export type { ValidateConfigOptions } from "./src/config/validate_config.ts";
export type { EnvLookup } from "./src/config/expand_vars.ts";
export type {
  ApiKeyAuthConfig,
  AuthConfig,
  BasicAuthConfig,
  BearerAuthConfig,
  ClientCredentialsAuthConfig,
  Config,
  EnterpriseManagedAuthConfig,
  GatewayConfig,
  GatewayExpose,
  JwtBearerAuthConfig,
  OAuthAuthConfig,
  PrivateKeyJwtAuthConfig,
  RemoteServerConfig,
  SecretSource,
  ServerConfig,
  ServerConfigBase,
  StdioServerConfig,
  StoreConfig,
  ToolFilterConfig,
} from "./src/config/types.ts";

export { FileTokenStore } from "./src/auth/store/file_token_store.ts";
export type { FileTokenStoreOptions } from "./src/auth/store/file_token_store.ts";
export type {
  CredentialDocument,
  StoredClient,
  StoredTokens,
  TokenStore,
  TokenTransaction,
} from "./src/auth/store/token_store.ts";
export type { StoredDpopKey } from "./src/auth/protocol/dpop.ts";
export type { CredentialProvider, CredentialStatus, DpopSender } from "./src/auth/types.ts";
// One factory builds every kind of credential provider (OAuth, machine grants, static headers);
// the provider classes behind it are internals.
export { createCredentialProvider } from "./src/auth/lifecycle/create_credential_provider.ts";
export type { CredentialProviderOptions } from "./src/auth/lifecycle/create_credential_provider.ts";
export { loginWithOAuth } from "./src/auth/login/oauth_login.ts";
export type { OAuthLoginOptions, OAuthLoginResult } from "./src/auth/login/oauth_login.ts";
export { loginWithDeviceCode } from "./src/auth/login/oauth_device_login.ts";
export type { DeviceCodePrompt, DeviceLoginOptions } from "./src/auth/login/oauth_device_login.ts";
export { logoutOAuth } from "./src/auth/login/oauth_logout.ts";
export type {
  OAuthLogoutOptions,
  OAuthLogoutResult,
  TokenRevocation,
} from "./src/auth/login/oauth_logout.ts";
export { createAuthFetch } from "./src/auth/lifecycle/auth_fetch.ts";
export type { AuthFetchOptions } from "./src/auth/lifecycle/auth_fetch.ts";

export { createGateway } from "./src/gateway/create_gateway.ts";
export type { CreateGatewayOptions } from "./src/gateway/create_gateway.ts";
export { Gateway } from "./src/gateway/gateway.ts";
export type { GatewayOptions, LocalTools, ServerHealth } from "./src/gateway/gateway.ts";
export type { UpstreamState } from "./src/gateway/upstream.ts";
export type { ToolCache } from "./src/gateway/tool_cache.ts";
export { serveGatewayHttp } from "./src/gateway/serve_http.ts";
export type { GatewayHttpServer, ServeGatewayHttpOptions } from "./src/gateway/serve_http.ts";
export type {
  GatewayHandlerOptions,
  MethodRoutes,
  RouteHandler,
} from "./src/gateway/http_endpoint.ts";
export { serveGatewayStdio } from "./src/gateway/serve_stdio.ts";

export {
  AuthError,
  ConfigError,
  InsecureTokenFileError,
  NotAuthenticatedError,
  ToolscriptError,
  UnreadableTokenFileError,
  UpstreamError,
  UsageError,
} from "./src/errors.ts";
export type { LoginFix, ToolscriptErrorCode, ToolscriptErrorOptions } from "./src/errors.ts";
export { Logger, Redactor } from "./src/log.ts";
export type { LoggerOptions, LogLevel } from "./src/log.ts";
