/**
 * A {@link TokenStore} in Redis, shared by gateways on many machines: one encrypted document
 * per server (and per caller), a refresh lock with a lease and a fencing token, and a pub/sub
 * channel that tells every gateway of a write at once.
 */
import { createHash } from "node:crypto";
import { AuthError, NotAuthenticatedError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../log.ts";
import { decodeServerName } from "../../config/server_file_name.ts";
import { documentForUrl, parseDocument, runTransaction } from "./_credential_file.ts";
import { LockQueue } from "./file_lock.ts";
import { RedisClient } from "./redis_client.ts";
import { parseRedisUrl } from "./redis_connection.ts";
import { DecryptionFailedError, decryptValue, encryptValue } from "./redis_encryption.ts";
import {
  CHANGES_CHANNEL,
  docPattern,
  keysOf,
  parseScope,
  scopeOf,
  scopeOfDocKey,
  scopePrefix,
} from "./redis_keys.ts";
import { acquireRedisLock, LockLostError, type RedisLock } from "./redis_lock.ts";
import type { CredentialDocument, TokenStore, TokenTransaction } from "./token_store.ts";

export { CHANGES_CHANNEL } from "./redis_keys.ts";
export { LockLostError } from "./redis_lock.ts";

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`; the password never reaches a log. */
  url: string;
  /** The AES-256-GCM key (see `importStoreKey`). */
  key: CryptoKey;
  /** Whose documents: a caller's, or the gateway's own (undefined). */
  caller?: string;
  /** Lease of the refresh lock, renewed while held; default 10 000 ms. */
  lockLeaseMs?: number;
  /** Longest wait for one Redis reply; default 5 000 ms. */
  timeoutMs?: number;
  /** Receives lock and subscription warnings; silent by default. */
  logger?: Logger;
  /** Clock for `updatedAt`, epoch ms; default `Date.now`. */
  now?: () => number;
  /** A client to share (the caller views of one store share the gateway's). @ignore */
  client?: RedisClient;
}

/** Writes only while holding the lock, and never over a document of a newer fence. */
const SAVE = `if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if current > tonumber(ARGV[2]) then return -1 end
if ARGV[3] == '' then
  if redis.call('DEL', KEYS[1]) == 0 then return 2 end
else
  redis.call('HSET', KEYS[1], 'fence', ARGV[2], 'data', ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;
/** Replaces `data` only when it is still what was read (for rekey). */
const REPLACE = `if redis.call('HGET', KEYS[1], 'data') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`;

/**
 * Keeps credential documents in Redis, encrypted with AES-256-GCM under the configured key
 * (server name and caller as associated data, so a value moved to another key does not
 * decrypt). Each document is one hash (`fence`, `data`), written by a script that checks
 * this process still holds the server's lock and that no newer fence wrote since: a gateway
 * that stalls or dies mid-refresh loses its lease and can neither keep the lock nor
 * overwrite a newer token set. Every write is published on {@link CHANGES_CHANNEL}.
 *
 * @throws {StoreUnavailableError} (temporary) from every method when Redis cannot be reached.
 * @throws {NotAuthenticatedError} from `load` when a value does not decrypt, naming the login
 *   that replaces it.
 */
export class RedisTokenStore implements TokenStore {
  /** The store URL without its password, for messages. */
  readonly display: string;
  /** Whose documents this view holds (undefined: the gateway's own). */
  readonly caller: string | undefined;
  readonly #client: RedisClient;
  readonly #key: CryptoKey;
  readonly #leaseMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #options: RedisTokenStoreOptions;
  readonly #queue = new LockQueue();

  /**
   * Connects on first use.
   * @throws {TypeError} when `url` is not a Redis URL (the message has no password).
   */
  constructor(options: RedisTokenStoreOptions) {
    const address = parseRedisUrl(options.url);
    this.#options = options;
    this.display = address.display;
    this.caller = options.caller;
    this.#client = options.client ?? new RedisClient(address, { timeoutMs: options.timeoutMs });
    this.#key = options.key;
    this.#leaseMs = options.lockLeaseMs ?? 10_000;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
  }

  /** See {@link TokenStore.forCaller}: the caller's key scope. */
  forCaller(caller: string | undefined): RedisTokenStore {
    if (caller === this.caller) return this;
    return new RedisTokenStore({ ...this.#options, caller, client: this.#client });
  }

  /** See {@link TokenStore.load}. */
  async load(
    server: string,
    serverUrl: string,
    signal?: AbortSignal,
  ): Promise<CredentialDocument | undefined> {
    signal?.throwIfAborted();
    const data = await this.#client.command(["HGET", this.#docKey(server), "data"]);
    if (typeof data !== "string") return undefined;
    let plain: string;
    try {
      plain = await decryptValue(this.#key, data, server, this.caller);
    } catch (error) {
      if (!(error instanceof DecryptionFailedError)) throw error;
      throw new NotAuthenticatedError(server, {
        reason: `its stored credentials in ${this.display} cannot be used: ${error.message}`,
        caller: this.caller,
      });
    }
    const doc = parseDocument(`${this.display} ${this.#docKey(server)}`, server, enc(plain));
    return documentForUrl(doc, serverUrl, this.#logger);
  }

  /** See {@link TokenStore.save}. Stamps `updatedAt`; in a transaction of its own. */
  async save(doc: CredentialDocument, signal?: AbortSignal): Promise<void> {
    await this.transaction(doc.server, (tx) => tx.save(doc), signal);
  }

  /** See {@link TokenStore.delete}; in a transaction of its own. */
  async delete(server: string, signal?: AbortSignal): Promise<boolean> {
    return await this.transaction(server, (tx) => tx.delete(), signal);
  }

  /**
   * See {@link TokenStore.transaction}. The lock is `SET NX PX` with a random value and a
   * lease, renewed every third of the lease while `fn` runs; taking it increments the server's
   * fencing token, which every write made through `tx` carries (a write after the lease was
   * lost is refused with {@link LockLostError}). Waits poll (50 to 250 ms apart).
   * @throws the signal's reason, unchanged, when `signal` aborts while waiting.
   */
  async transaction<T>(
    server: string,
    fn: (tx: TokenTransaction) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const scope = this.#scope(server);
    using _turn = await this.#queue.acquire(scope, signal);
    const keys = keysOf(scope);
    await using lock = await acquireRedisLock(this.#client, {
      lockKey: keys.lock,
      fenceKey: keys.fence,
      leaseMs: this.#leaseMs,
      server,
      logger: this.#logger,
      signal,
    });
    return await runTransaction(server, {
      load: (serverUrl) => this.load(server, serverUrl, signal),
      save: async (doc) => {
        const data = await encryptValue(
          this.#key,
          JSON.stringify({ ...doc, updatedAt: this.#now() }),
          server,
          this.caller,
        );
        await this.#write(lock, server, data);
      },
      delete: async () => (await this.#write(lock, server, "")) === 1,
    }, fn);
  }

  /** See {@link TokenStore.version}: a digest of the stored (encrypted) value. */
  async version(server: string): Promise<string | undefined> {
    const data = await this.#client.command(["HGET", this.#docKey(server), "data"]);
    if (typeof data !== "string") return undefined;
    return createHash("sha256").update(data).digest("hex").slice(0, 32);
  }

  /** See {@link TokenStore.list}: the servers with a document of this caller (or the gateway). */
  async list(): Promise<string[]> {
    const prefix = scopePrefix(this.caller);
    const names: string[] = [];
    for (const key of await this.#scan(docPattern(prefix))) {
      const scope = scopeOfDocKey(key);
      const name = scope?.startsWith(prefix)
        ? decodeServerName(scope.slice(prefix.length))
        : undefined;
      if (name !== undefined) names.push(name);
    }
    return names.sort();
  }

  /**
   * Calls `onChange` with the server name whenever a document of this view is written by any
   * process, and with undefined after each (re)connection (changes may have been missed);
   * until `signal` aborts.
   */
  watch(onChange: (server: string | undefined) => void, signal: AbortSignal): void {
    const prefix = scopePrefix(this.caller);
    let warned = false;
    this.#client.subscribe(CHANGES_CHANNEL, (message) => {
      if (!message.startsWith(prefix)) return;
      const name = decodeServerName(message.slice(prefix.length));
      if (name !== undefined) onChange(name);
    }, {
      signal,
      onConnected: () => {
        warned = false;
        onChange(undefined);
      },
      onError: (error) => {
        if (warned) return;
        warned = true;
        this.#logger.warn("credential store change notifications stopped; retrying", {
          error: error instanceof Error ? error.message : String(error),
        });
      },
    });
  }

  /**
   * Re-encrypts every document in the store (every caller's too) from `oldKey` to this
   * store's key; values that already decrypt under the new key are left alone, so an
   * interrupted rekey can be run again.
   * @returns how many values were re-encrypted and how many were already under the new key.
   * @throws {AuthError} naming the key of a value that decrypts under neither key.
   */
  async rekey(oldKey: CryptoKey): Promise<{ rekeyed: number; current: number }> {
    let rekeyed = 0;
    let current = 0;
    for (const key of await this.#scan(docPattern(""))) {
      const scope = scopeOfDocKey(key) ?? "";
      const { server, caller } = parseScope(scope) ?? {};
      if (server === undefined) continue;
      for (let attempt = 0; attempt < 5; attempt++) {
        const data = await this.#client.command(["HGET", key, "data"]);
        if (typeof data !== "string") break;
        try {
          await decryptValue(this.#key, data, server, caller);
          current++;
          break;
        } catch { /* not yet under the new key */ }
        let plain: string;
        try {
          plain = await decryptValue(oldKey, data, server, caller);
        } catch {
          throw new AuthError(
            `Cannot rekey ${this.display} ${key}: it decrypts under neither the old nor the new key`,
            { server },
          );
        }
        const sealed = await encryptValue(this.#key, plain, server, caller);
        const done = await this.#client.eval(REPLACE, [key], [
          data,
          sealed,
          CHANGES_CHANNEL,
          scope,
        ]);
        if (done === 1) {
          rekeyed++;
          break;
        }
      }
    }
    return { rekeyed, current };
  }

  /** Closes the connection (a later call opens a new one). */
  close(): void {
    this.#client.close();
  }

  /** One fenced write under `lock` (`data` empty: delete); 1 written, 2 nothing to delete. */
  async #write(lock: RedisLock, server: string, data: string): Promise<number> {
    const scope = this.#scope(server);
    const keys = keysOf(scope);
    const result = await this.#client.eval(
      SAVE,
      [keys.doc, keys.lock],
      [lock.value, String(lock.fence), data, CHANGES_CHANNEL, scope],
    );
    if (result === 1 || result === 2) return result;
    throw new LockLostError(server, this.#leaseMs);
  }

  async #scan(pattern: string): Promise<string[]> {
    const keys = new Set<string>();
    let cursor = "0";
    for (let round = 0; round < 100_000; round++) {
      const reply = await this.#client.command(["SCAN", cursor, "MATCH", pattern, "COUNT", "500"]);
      if (!Array.isArray(reply) || typeof reply[0] !== "string" || !Array.isArray(reply[1])) {
        throw new Error("unexpected SCAN reply from Redis");
      }
      for (const key of reply[1]) if (typeof key === "string") keys.add(key);
      cursor = reply[0];
      if (cursor === "0") break;
    }
    return [...keys].sort();
  }

  #scope(server: string): string {
    return scopeOf(server, this.caller);
  }

  #docKey(server: string): string {
    return keysOf(this.#scope(server)).doc;
  }
}

function enc(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
