/**
 * Per-caller OAuth credentials (`gateway.callers`): each caller's token sets are kept apart
 * from the gateway's own and every other caller's, in the file store (a directory per caller)
 * or the Redis store (a key scope per caller). Machine and static credentials stay the
 * gateway's: only OAuth servers get a caller's own provider. The caller's documents are the
 * store's view `TokenStore.forCaller(caller)`.
 */
import type { ServerConfig } from "../../config/types.ts";
import type { CredentialProviderOptions } from "./create_credential_provider.ts";
import { OAuthCredentialProvider } from "./oauth_credentials.ts";
import type { CredentialProvider } from "../types.ts";

/**
 * True when calls of a caller to `server` use the caller's own credentials: OAuth servers
 * (`"auth": {"type": "oauth"}`, or no `auth` block) without a `TOOLSCRIPT_TOKEN_<SERVER>`.
 */
export function usesCallerCredentials(server: ServerConfig): boolean {
  if (server.type === "stdio" || server.tokenOverride) return false;
  return server.auth === undefined || server.auth.type === "oauth";
}

/**
 * The provider of `caller`'s own credentials for `server`, or undefined when the server's
 * credentials are the gateway's (see {@link usesCallerCredentials}).
 */
export function createCallerCredentialProvider(
  server: ServerConfig,
  caller: string,
  options: CredentialProviderOptions,
): CredentialProvider | undefined {
  if (!usesCallerCredentials(server) || server.type === "stdio") return undefined;
  return new OAuthCredentialProvider(server, {
    store: options.store.forCaller(caller),
    logger: options.logger,
    fetch: options.fetch,
    now: options.now,
    onTokenRequest: options.onTokenRequest,
    caller,
    implicit: server.auth === undefined,
  });
}
