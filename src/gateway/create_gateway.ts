/**
 * The library's one-call way to build a gateway: the config's servers with the credential
 * providers their `auth` blocks ask for, tokens kept in the given store.
 */
import { join } from "node:path";
import type { Config, ServerConfig } from "../config/types.ts";
import type { CredentialProvider } from "../auth/types.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { TokenStore } from "../auth/store/token_store.ts";
import { FileTokenStore } from "../auth/store/file_token_store.ts";
import { createCredentialProvider } from "../auth/lifecycle/create_credential_provider.ts";
import { Gateway, type GatewayOptions } from "./gateway.ts";
import { FileToolCache } from "./tool_cache.ts";
import { GatewayMetrics } from "./metrics.ts";

/** Options of {@link createGateway}. */
export interface CreateGatewayOptions {
  /** `$TOOLSCRIPT_HOME`: credentials under `credentials/`, tool lists under `cache/`. */
  home: string;
  /** Receives the gateway's log lines; `config.secrets` are added to its redactor. Default silent. */
  logger?: Logger;
  /** Another token store (default: a {@link FileTokenStore} under `home`). */
  store?: TokenStore;
  /** Default `globalThis.fetch`; used for upstream HTTP servers and every OAuth request. */
  fetch?: typeof fetch;
  /** Epoch ms; decides token expiry. Default `Date.now`. */
  now?: () => number;
  /**
   * Credentials per server, when the caller shares them elsewhere (e.g. with `status`). Called
   * once per upstream the gateway builds: at construction, and on a reload for each server that
   * is new or whose entry changed. The gateway closes a provider with its upstream, so a
   * reloading caller must hand out a new provider for a changed entry, not a cached one.
   */
  credentialsFor?: (server: ServerConfig) => CredentialProvider | undefined;
  /** Each `gateway.callers` caller's own credentials per server (see `GatewayOptions`). */
  callerCredentialsFor?: GatewayOptions["callerCredentialsFor"];
  /**
   * The gateway's metrics (default a new registry). With `credentialsFor`, pass the registry
   * whose `countTokenRequest` those providers got as `onTokenRequest`, so token requests are
   * counted; without it, the providers built here are given it. Internal: not part of the
   * library API yet.
   * @ignore
   */
  metrics?: GatewayMetrics;
  /** Tools the gateway serves itself (see `LocalTools`); default none. */
  localTools?: GatewayOptions["localTools"];
}

/**
 * Builds (but does not start) a gateway over `config`; call `start()` to connect, and
 * `close()` (or `await using`) to stop every upstream.
 *
 * @example
 * ```ts ignore
 * import { createGateway, loadConfig } from "./mod.ts";
 * const config = await loadConfig({ env: Deno.env.get, cwd: Deno.cwd(), home: "/home/me" });
 * await using gateway = createGateway(config, { home: "/home/me/.toolscript" });
 * await gateway.start();
 * console.log(gateway.listTools().map((t) => t.name));
 * ```
 */
export function createGateway(config: Config, options: CreateGatewayOptions): Gateway {
  const logger = options.logger ?? silentLogger();
  for (const secret of config.secrets) logger.redactor.addSecret(secret);
  const configPath = config.source === "flag" ? config.file : undefined;
  const metrics = options.metrics ?? new GatewayMetrics();
  const providerOptions = {
    logger,
    store: options.store ??
      new FileTokenStore({ dir: join(options.home, "credentials"), logger, now: options.now }),
    fetch: options.fetch,
    now: options.now,
    onTokenRequest: metrics.countTokenRequest,
  };
  // One provider per upstream built (its reconnects share it); a reload builds new ones.
  const credentialsFor = options.credentialsFor ??
    ((server: ServerConfig) => createCredentialProvider(server, providerOptions));
  return new Gateway(config, {
    logger,
    fetch: options.fetch,
    configPath,
    toolCache: new FileToolCache({ dir: join(options.home, "cache") }),
    credentialsFor,
    callerCredentialsFor: options.callerCredentialsFor,
    metrics,
    localTools: options.localTools,
  });
}
