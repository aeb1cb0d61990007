/**
 * A Redis client that survives Redis going away: commands share one lazily opened
 * {@link RedisConnection}, a failed connection is dropped and the next command opens a new
 * one, and a subscriber keeps re-subscribing until stopped.
 */
import { abortableDelay } from "../../abort.ts";
import { type RedisAddress, RedisConnection, type RespValue } from "./redis_connection.ts";

/** Options of {@link RedisClient}. */
export interface RedisClientOptions {
  /** Longest connect (with AUTH and SELECT) and longest wait for one reply; default 5 000 ms. */
  timeoutMs?: number;
}

/** Commands over one shared connection, reopened on demand after a failure. */
export class RedisClient {
  /** Where Redis is (its `display` is the URL without the password). */
  readonly address: RedisAddress;
  readonly #timeoutMs: number;
  #connection: Promise<RedisConnection> | undefined;

  /** Connects on first use. */
  constructor(address: RedisAddress, options: RedisClientOptions = {}) {
    this.address = address;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  /**
   * Runs one command.
   * @throws {StoreUnavailableError} when Redis cannot be reached or stops answering.
   * @throws {RedisReplyError} for an error reply.
   */
  async command(args: string[]): Promise<RespValue> {
    const connection = await this.#connect();
    return await connection.command(args, this.#timeoutMs);
  }

  /** Runs a Lua script with `EVAL` (scripts are short; no script cache to keep in sync). */
  eval(script: string, keys: string[], args: string[]): Promise<RespValue> {
    return this.command(["EVAL", script, String(keys.length), ...keys, ...args]);
  }

  /**
   * Calls `onMessage` for every message on `channel` until `signal` aborts, reconnecting
   * (at most once a second) when the connection fails; `onConnected` runs after each
   * (re)subscription, so the owner can catch up on what it missed meanwhile.
   */
  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    options: { signal: AbortSignal; onConnected?: () => void; onError?: (error: unknown) => void },
  ): void {
    const { signal } = options;
    (async () => {
      while (!signal.aborted) {
        let connection: RedisConnection | undefined;
        const stop = () => connection?.close();
        try {
          connection = await RedisConnection.open(this.address, this.#timeoutMs);
          signal.addEventListener("abort", stop, { once: true });
          await connection.subscribe(channel, (_channel, message) => onMessage(message));
          options.onConnected?.();
          await connection.closed;
        } catch (error) {
          if (!signal.aborted) options.onError?.(error);
        } finally {
          signal.removeEventListener("abort", stop);
          connection?.close();
        }
        await abortableDelay(1_000, signal).catch(() => {});
      }
    })();
  }

  /** Closes the shared connection; the next command opens a new one. */
  close(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.then((c) => c.close(), () => {});
  }

  #connect(): Promise<RedisConnection> {
    const current = this.#connection;
    if (current) {
      return current.then((c) => {
        if (c.open) return c;
        if (this.#connection === current) this.#connection = undefined;
        return this.#connect();
      });
    }
    const opening = RedisConnection.open(this.address, this.#timeoutMs);
    this.#connection = opening;
    opening.catch(() => {
      if (this.#connection === opening) this.#connection = undefined;
    });
    return opening;
  }
}
