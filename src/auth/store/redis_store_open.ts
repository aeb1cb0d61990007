/**
 * Opens the {@link RedisTokenStore} a config's `store` block asks for: reads the encryption
 * key (file or `$TOOLSCRIPT_STORE_KEY`) and checks it before anything connects. Imported
 * lazily by the CLI, so a gateway on the file store never loads the Redis modules.
 */
import type { SecretSource, StoreConfig } from "../../config/types.ts";
import { readSecret } from "../../config/read_secret.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { importStoreKey } from "./redis_encryption.ts";
import { RedisTokenStore } from "./redis_token_store.ts";

/** Options of {@link openRedisStore}. */
export interface OpenRedisStoreOptions {
  /** Logger whose redactor gets the key and URL password. */
  logger: Logger;
  /** Clock for `updatedAt`. */
  now?: () => number;
  /** The config file, for error messages. */
  configFile?: string;
}

/**
 * The store of `config`, not yet connected (Redis down at start is not an error here).
 * @throws {ConfigError} (exit 2) when the key cannot be read or is not base64 of 32 bytes.
 */
export async function openRedisStore(
  config: StoreConfig,
  options: OpenRedisStoreOptions,
): Promise<RedisTokenStore> {
  const key = await readStoreKey(config.encryptionKey, options);
  const url = new URL(config.url);
  if (url.password) options.logger.redactor.addSecret(decodeURIComponent(url.password));
  return new RedisTokenStore({ url: config.url, key, logger: options.logger, now: options.now });
}

/**
 * Reads and imports a store key (a file's content or an env value, base64 of 32 bytes).
 * @throws {ConfigError} (exit 2) naming the file or variable, never the key.
 */
export async function readStoreKey(
  source: SecretSource,
  options: Pick<OpenRedisStoreOptions, "logger" | "configFile">,
): Promise<CryptoKey> {
  const what = "the store encryption key";
  const text = await readSecret(source, { what, logger: options.logger });
  try {
    return await importStoreKey(text);
  } catch (error) {
    const from = source.file ? `"${source.file}"` : `$${source.env}`;
    throw new ConfigError(`Cannot use ${what} from ${from}: ${(error as Error).message}`, {
      file: options.configFile,
      path: source.file && options.configFile ? "store.encryptionKeyFile" : undefined,
      fix: "openssl rand -base64 32",
    });
  }
}
