/**
 * The Redis store's cross-process lock: `SET NX PX` with a random value and a lease, renewed
 * while held, each acquisition numbered by a fencing token that writes made under it carry.
 * A holder that dies leaves nothing behind once its lease ends; one that stalls past its
 * lease finds its writes refused (see the store's write script).
 */
import { abortableDelay } from "../../abort.ts";
import { AuthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { RedisClient } from "./redis_client.ts";

/** A lock held by this process. Dispose it to stop renewing and release it. */
export interface RedisLock extends AsyncDisposable {
  /** Its random value in Redis: only the holder's scripts match it. */
  readonly value: string;
  /** The fencing token of this acquisition (increases with every acquisition). */
  readonly fence: number;
  /** False once released. */
  active: boolean;
}

/** The lock's lease ran out while it was held: another process may have written since. */
export class LockLostError extends AuthError {
  /** Names the server; the write was not made. */
  constructor(server: string, leaseMs: number) {
    super(
      `The credential store lock of server "${server}" expired (lease ${leaseMs} ms) while ` +
        "this process held it; another process may have written since, so this write was dropped",
      { server, temporary: true },
    );
    this.name = "LockLostError";
  }
}

const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2]) end
return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) end
return 0`;

/** Options of {@link acquireRedisLock}. */
export interface AcquireRedisLockOptions {
  /** The lock's key and its fencing counter's key. */
  lockKey: string;
  fenceKey: string;
  /** Lease, renewed every third of it while held. */
  leaseMs: number;
  /** The server, for log lines. */
  server: string;
  logger: Logger;
  /** Bounds the wait for another holder. */
  signal?: AbortSignal;
}

/**
 * Takes the lock, polling (50 to 250 ms apart) while another process holds it.
 * @throws the signal's reason, unchanged, when `signal` aborts while waiting.
 * @throws {StoreUnavailableError} when Redis cannot be reached.
 */
export async function acquireRedisLock(
  client: RedisClient,
  options: AcquireRedisLockOptions,
): Promise<RedisLock> {
  const { lockKey, fenceKey, leaseMs, server, logger, signal } = options;
  const value = crypto.randomUUID();
  let fence = 0;
  for (let attempt = 0;; attempt++) {
    signal?.throwIfAborted();
    const reply = await client.eval(ACQUIRE, [lockKey, fenceKey], [value, String(leaseMs)]);
    if (typeof reply === "number" && reply > 0) {
      fence = reply;
      break;
    }
    await abortableDelay(Math.min(250, 50 * 2 ** Math.min(attempt, 3)), signal);
  }
  let lost = false;
  const lock: RedisLock = {
    value,
    fence,
    active: true,
    async [Symbol.asyncDispose]() {
      lock.active = false;
      clearInterval(renewal);
      await client.eval(RELEASE, [lockKey], [value]).catch((error) =>
        logger.debug("Could not release a store lock (its lease ends it)", {
          server,
          error: String(error),
        })
      );
    },
  };
  const renewal = setInterval(() => {
    if (!lock.active || lost) return;
    client.eval(RENEW, [lockKey], [value, String(leaseMs)]).then(
      (renewed) => {
        if (renewed === 1 || !lock.active) return;
        lost = true;
        logger.warn(`lost the credential store lock of server "${server}" (lease expired)`);
      },
      (error) => logger.debug("Could not renew a store lock", { server, error: String(error) }),
    );
  }, Math.max(50, leaseMs / 3));
  return lock;
}
