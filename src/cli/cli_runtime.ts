/**
 * What every command needs, built once from the platform values `main.ts` passes in: the
 * loaded config, the logger (with every config secret registered for redaction), the token
 * store, and a factory of credential providers.
 */
import { join } from "node:path";
import { loadConfig } from "../config/load_config.ts";
import { toolscriptHome } from "../config/toolscript_home.ts";
import type { Config, ServerConfig } from "../config/types.ts";
import { Logger, parseLogLevel } from "../log.ts";
import { FileTokenStore } from "../auth/store/file_token_store.ts";
import type { TokenStore } from "../auth/store/token_store.ts";
import type { CredentialProvider } from "../auth/types.ts";
import {
  createCredentialProvider,
  credentialProviderCache,
} from "../auth/lifecycle/create_credential_provider.ts";
import {
  createCallerCredentialProvider,
  usesCallerCredentials,
} from "../auth/lifecycle/caller_credentials.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { createGateway, type CreateGatewayOptions } from "../gateway/create_gateway.ts";
import { GatewayMetrics } from "../gateway/metrics.ts";
import { ConfigError, UsageError } from "../errors.ts";
import type { FixContext } from "../fix_command.ts";

/** Platform values `main.ts` supplies; specs supply their own. */
export interface CliIo {
  env: (name: string) => string | undefined;
  cwd: string;
  home: string;
  /** Writes text to stdout as is. */
  stdout: (text: string) => void;
  /** Writes text to stderr as is (log lines go through the logger instead). */
  stderr: (text: string) => void;
  /**
   * Writes to stderr without redaction, for the one text that must reach the user verbatim:
   * an authorization URL (its `state` parameter looks like a secret). Default: `stderr`.
   */
  stderrVerbatim?: (text: string) => void;
  /** Standard input, for commands that accept pasted input. */
  stdin: ReadableStream<Uint8Array>;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  fetch: typeof fetch;
  now: () => number;
  /** Opens a URL in the user's browser; false when it could not. */
  openBrowser?: (url: string) => Promise<boolean>;
  /** The logger `main.ts` created (so errors it prints are redacted the same way). */
  logger: Logger;
  /**
   * What `main.ts` renders the fix commands of errors with: {@link openCliRuntime} records
   * the config to name in `--config` (when not the default one) here.
   */
  fixes?: FixContext;
}

/** Loaded config plus everything built from it. */
export interface CliRuntime {
  io: CliIo;
  config: Config;
  logger: Logger;
  store: TokenStore;
  /** `$TOOLSCRIPT_HOME`. */
  home: string;
  /** The config path to name in `--config` hints, when it is not found by default lookup. */
  configHint?: string;
  credentialsFor: (server: ServerConfig) => CredentialProvider | undefined;
  /**
   * A new provider on each call (same store, clock and metrics as `credentialsFor`): for a
   * gateway that reloads its config and so builds upstreams again.
   */
  newCredentials: (server: ServerConfig) => CredentialProvider | undefined;
  /** The metrics of gateways built from this runtime; its providers count token requests in it. */
  metrics: GatewayMetrics;
}

/**
 * Creates the program's logger from `TOOLSCRIPT_LOG` (any case); an unknown value gives `info`
 * and one warning through the new logger. `write` defaults to stderr.
 */
export function createCliLogger(
  env: (name: string) => string | undefined,
  write?: (line: string) => void,
): Logger {
  const { level, unknown } = parseLogLevel(env("TOOLSCRIPT_LOG"));
  const logger = new Logger({ level, write });
  if (unknown !== undefined) {
    logger.warn(
      `unknown TOOLSCRIPT_LOG value ${JSON.stringify(unknown)}, using ${level}; ` +
        "use debug, info, warn or error",
    );
  }
  return logger;
}

/** Loads the config (`--config` or lookup) and builds the runtime around it. */
export async function openCliRuntime(io: CliIo, configFlag?: string): Promise<CliRuntime> {
  const logger = io.logger;
  const config = await loadConfig({
    flag: configFlag,
    env: io.env,
    cwd: io.cwd,
    home: io.home,
    logger,
  });
  for (const secret of config.secrets) logger.redactor.addSecret(secret);
  const home = toolscriptHome(io.env, io.home);
  const store = await openStore(config, logger, home, io.now);
  const configHint = config.source === "flag" ? config.file : undefined;
  if (io.fixes) io.fixes.configPath = configHint;
  const metrics = new GatewayMetrics();
  const providerOptions = {
    logger,
    store,
    fetch: io.fetch,
    now: io.now,
    onTokenRequest: metrics.countTokenRequest,
  };
  const credentialsFor = credentialProviderCache(providerOptions);
  const newCredentials = (server: ServerConfig) =>
    createCredentialProvider(server, providerOptions);
  return { io, config, logger, store, home, configHint, credentialsFor, newCredentials, metrics };
}

/**
 * The config's store: the Redis store of a `store` block (its modules loaded only then), else
 * the file store under `$TOOLSCRIPT_HOME/credentials/`.
 */
async function openStore(
  config: Config,
  logger: Logger,
  home: string,
  now: () => number,
): Promise<TokenStore> {
  if (!config.store) return new FileTokenStore({ dir: join(home, "credentials"), logger, now });
  const { openRedisStore } = await import("../auth/store/redis_store_open.ts");
  return await openRedisStore(config.store, { logger, now, configFile: config.file });
}

/**
 * The runtime as `caller` (`--caller`) sees it: that caller's own store of OAuth credentials
 * and providers for OAuth servers; machine and static credentials stay the gateway's.
 * Undefined `caller`: `runtime` itself.
 * @throws {UsageError} when `caller` is not in `gateway.callers`.
 */
export function runtimeForCaller(runtime: CliRuntime, caller: string | undefined): CliRuntime {
  if (caller === undefined) return runtime;
  const callers = runtime.config.gateway.callers ?? {};
  if (!Object.hasOwn(callers, caller)) {
    const known = Object.keys(callers).join(", ") || "none";
    const where = runtime.config.file ? ` in "${runtime.config.file}"` : "";
    throw new UsageError(
      `Unknown caller "${caller}"${where}; "gateway.callers" has: ${known}`,
      { fix: `add "${caller}" to "gateway.callers" with its own token` },
    );
  }
  const options = {
    logger: runtime.logger,
    store: runtime.store,
    fetch: runtime.io.fetch,
    now: runtime.io.now,
    onTokenRequest: runtime.metrics.countTokenRequest,
  };
  const providers = new Map<string, CredentialProvider | undefined>();
  return {
    ...runtime,
    store: runtime.store.forCaller(caller),
    credentialsFor: (server) => {
      if (!usesCallerCredentials(server)) return runtime.credentialsFor(server);
      if (!providers.has(server.name)) {
        providers.set(server.name, createCallerCredentialProvider(server, caller, options));
      }
      return providers.get(server.name);
    },
  };
}

/**
 * Finds a server by name, enabled or not.
 * @throws {UsageError} listing the known servers when there is none of that name.
 * @throws {ConfigError} when it is a disabled server whose entry does not validate.
 */
export function findServer(runtime: CliRuntime, name: string): ServerConfig {
  const server = runtime.config.servers.find((s) => s.name === name);
  if (server?.configError) throw new ConfigError(server.configError);
  if (server) return server;
  const known = runtime.config.servers.map((s) => s.name).join(", ") || "none";
  const where = runtime.config.file ? ` in "${runtime.config.file}"` : "";
  throw new UsageError(`Unknown server "${name}"${where}; configured servers: ${known}`, {
    fix: "toolscript servers",
  });
}

/**
 * Finds an enabled server by name, for commands that connect to it.
 * @throws {UsageError} as {@link findServer}, and when the server is disabled (`fix` says how
 *   to enable it).
 */
export function findEnabledServer(runtime: CliRuntime, name: string): ServerConfig {
  const server = runtime.config.servers.find((s) => s.name === name);
  if (server && !server.enabled) {
    const file = runtime.config.file ?? "the config file";
    throw new UsageError(`Server "${name}" is disabled ("enabled": false in "${file}")`, {
      fix: `set "enabled": true on server "${name}" in ${file}`,
    });
  }
  return findServer(runtime, name);
}

/**
 * Builds a gateway over the given servers (all enabled ones by default), with the local tools
 * of `extra` (code mode's, for `gateway --expose`) and its `credentialsFor` when given (a
 * reloading gateway passes `runtime.newCredentials`).
 */
export function createCliGateway(
  runtime: CliRuntime,
  only?: ServerConfig[],
  extra: Pick<CreateGatewayOptions, "localTools" | "credentialsFor"> = {},
): Gateway {
  const config = only ? { ...runtime.config, servers: only } : runtime.config;
  return createGateway(config, {
    home: runtime.home,
    logger: runtime.logger,
    fetch: runtime.io.fetch,
    now: runtime.io.now,
    credentialsFor: extra.credentialsFor ?? runtime.credentialsFor,
    // Always: a config reload may add callers to a gateway that started without any.
    callerCredentialsFor: (server, caller) =>
      createCallerCredentialProvider(server, caller, {
        logger: runtime.logger,
        store: runtime.store,
        fetch: runtime.io.fetch,
        now: runtime.io.now,
        onTokenRequest: runtime.metrics.countTokenRequest,
      }),
    metrics: runtime.metrics,
    localTools: extra.localTools,
  });
}
