/**
 * Per-caller OAuth credentials (`gateway.callers`): each caller's token sets are kept apart
 * from the gateway's own and every other caller's, in the file store (a directory per caller)
 * or the Redis store (a key scope per caller). Machine and static credentials stay the
 * gateway's: only OAuth servers get a caller's own provider.
 */
import { join } from "node:path";
import type { ServerConfig } from "../../config/types.ts";
import type { Logger } from "../../log.ts";
import { encodeServerName } from "../../config/server_file_name.ts";
import type { CredentialProviderOptions } from "./create_credential_provider.ts";
import { FileTokenStore } from "../store/file_token_store.ts";
import { OAuthCredentialProvider } from "./oauth_credentials.ts";
import type { TokenStore } from "../store/token_store.ts";
import type { CredentialProvider } from "../types.ts";

/** A store that has views per caller (the Redis store). */
interface CallerScopedStore extends TokenStore {
  forCaller(caller: string | undefined): TokenStore;
}

/**
 * The store holding `caller`'s documents: for the file store
 * `<credentials>/callers/<caller>/` (created 0700 on first write), for the Redis store its
 * caller scope. Undefined `caller`: `store` itself.
 * @throws {TypeError} for a store that cannot keep callers apart.
 */
export function storeForCaller(
  store: TokenStore,
  caller: string | undefined,
  options: { logger?: Logger; now?: () => number } = {},
): TokenStore {
  if (caller === undefined) return store;
  if (store instanceof FileTokenStore) {
    return new FileTokenStore({
      dir: join(store.dir, "callers", encodeServerName(caller)),
      logger: options.logger,
      now: options.now,
    });
  }
  const scoped = store as Partial<CallerScopedStore>;
  if (typeof scoped.forCaller === "function") return scoped.forCaller(caller);
  throw new TypeError("this credential store cannot keep callers' credentials apart");
}

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
    store: storeForCaller(options.store, caller, options),
    logger: options.logger,
    fetch: options.fetch,
    now: options.now,
    onTokenRequest: options.onTokenRequest,
    caller,
    implicit: server.auth === undefined,
  });
}
