/**
 * Opens the {@link RedisTokenStore} a config's `store` block asks for: reads the encryption
 * key (file or `$TOOLSCRIPT_STORE_KEY`) and checks it before anything connects. Imported
 * lazily by the CLI, so a gateway on the file store never loads the Redis modules.
 */
import type { StoreConfig } from "../config/types.ts";
import { readSecret } from "../config/read_secret.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
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
  const what = "the store encryption key";
  const text = await readSecret(config.encryptionKey, { what, logger: options.logger });
  let key: CryptoKey;
  try {
    key = await importStoreKey(text);
  } catch (error) {
    const from = config.encryptionKey.file
      ? `"${config.encryptionKey.file}"`
      : `$${config.encryptionKey.env}`;
    throw new ConfigError(`Cannot use ${what} from ${from}: ${(error as Error).message}`, {
      file: options.configFile,
      path: config.encryptionKey.file ? "store.encryptionKeyFile" : undefined,
      fix: "openssl rand -base64 32",
    });
  }
  const url = new URL(config.url);
  if (url.password) options.logger.redactor.addSecret(decodeURIComponent(url.password));
  return new RedisTokenStore({ url: config.url, key, logger: options.logger, now: options.now });
}
