/**
 * Mutual exclusion for credential files: {@link FileLock}, an exclusive OS lock on a lock
 * file that serializes processes, and {@link LockQueue}, a FIFO that serializes callers
 * inside one process.
 */
import { InsecureTokenFileError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { abortableDelay } from "../../abort.ts";
import { writeAll } from "../../write_all.ts";

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** Stops waiting for the lock; the wait then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Longest pause between two attempts while another process holds the lock; default 100. */
  pollMs?: number;
  /** Told (at debug level) when the lock is busy, with the holder's pid. */
  logger?: Logger;
}

const FIRST_POLL_MS = 2;

/**
 * An exclusive advisory lock held on a lock file (`Deno.FsFile.lock` semantics: `flock`
 * on Unix). The operating system releases it when the holding process dies, so a killed
 * holder never leaves a stale lock behind. While held, the file contains the holder's pid,
 * for diagnostics only.
 *
 * Locks conflict per open file, so two `FileLock`s on one path exclude each other even
 * inside one process; use a {@link LockQueue} in front to make same-process callers queue
 * instead of polling. Not re-entrant.
 *
 * @example Hold a lock for a critical section
 * ```ts
 * import { FileLock } from "./file_lock.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   await using _lock = await FileLock.acquire(`${dir}/github.lock`);
 *   // … only one process at a time runs here …
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileLock implements AsyncDisposable {
  /** The lock file. */
  readonly path: string;
  #file: Deno.FsFile | undefined;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Takes the lock on `path`, creating the file (mode 0600) when missing, and waits while
   * another holder has it. Attempts are non-blocking and spaced by growing pauses up to
   * `pollMs`, so an abort is noticed within `pollMs`. The file is opened without truncation
   * and written only once it is known to be a regular file with a single link, so a lock
   * path hard-linked to another file never changes that file.
   * @throws {InsecureTokenFileError} when `path` is a symlink, not a regular file, or has
   *   more than one hard link.
   * @throws the signal's reason, unchanged, when `signal` aborts first.
   */
  static async acquire(path: string, options: FileLockOptions = {}): Promise<FileLock> {
    const { signal, pollMs = 100, logger } = options;
    if (!(pollMs > 0)) throw new RangeError(`pollMs must be positive, got ${pollMs}`);
    signal?.throwIfAborted();
    await refuseSymlink(path);
    const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    try {
      await refuseShared(path, file);
      let pauseMs = Math.min(FIRST_POLL_MS, pollMs);
      let told = false;
      while (!(await file.tryLock(true))) {
        if (!told && logger?.enabled("debug")) {
          logger.debug("Waiting for lock", { file: path, holderPid: await readHolder(path) });
        }
        told = true;
        await abortableDelay(pauseMs, signal);
        pauseMs = Math.min(pauseMs * 2, pollMs);
      }
      // Checked again under the lock, just before the first write: a link made while waiting.
      await refuseShared(path, file);
      await file.truncate(0);
      await writeAll(file, new TextEncoder().encode(`${Deno.pid}\n`));
      return new FileLock(path, file);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** True until {@link FileLock.release} is called. */
  get held(): boolean {
    return this.#file !== undefined;
  }

  /** Releases the lock (clearing the pid) and closes the file; later calls do nothing. */
  async release(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    try {
      await file.truncate(0);
      await file.unlock();
    } catch {
      // Closing the file below releases the lock anyway.
    } finally {
      file.close();
    }
  }

  /** Same as {@link FileLock.release}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

/** Takes an exclusive lock on `path`; see {@link FileLock.acquire}. */
export function acquireFileLock(path: string, options?: FileLockOptions): Promise<FileLock> {
  return FileLock.acquire(path, options);
}

/**
 * Serializes async callers by key inside one process, first come first served. An
 * aborted waiter leaves the queue without disturbing the others.
 *
 * @example Two callers, one at a time
 * ```ts
 * import { LockQueue } from "./file_lock.ts";
 * const queue = new LockQueue();
 * {
 *   using _turn = await queue.acquire("github");
 *   // a second acquire("github") waits here until this block ends
 * }
 * ```
 */
export class LockQueue {
  /** Present while a key is held: the callers waiting for it, in order. */
  readonly #waiting = new Map<string, Array<() => void>>();

  /**
   * Resolves when the caller holds `key`; dispose the result to pass it on.
   * @throws the signal's reason, unchanged, when `signal` aborts while waiting.
   */
  async acquire(key: string, signal?: AbortSignal): Promise<Disposable> {
    signal?.throwIfAborted();
    const queue = this.#waiting.get(key);
    if (!queue) {
      this.#waiting.set(key, []);
      return this.#turn(key);
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        queue.splice(queue.indexOf(grant), 1);
        reject(signal?.reason);
      };
      queue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    return this.#turn(key);
  }

  /** True while someone holds `key`. */
  isHeld(key: string): boolean {
    return this.#waiting.has(key);
  }

  #turn(key: string): Disposable {
    let done = false;
    return {
      [Symbol.dispose]: () => {
        if (done) return;
        done = true;
        const next = this.#waiting.get(key)?.shift();
        if (next) next();
        else this.#waiting.delete(key);
      },
    };
  }
}

async function refuseSymlink(path: string): Promise<void> {
  try {
    if ((await Deno.lstat(path)).isSymlink) {
      throw new InsecureTokenFileError(path, "the lock file is a symbolic link");
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Refuses an open lock file that is not a regular file or has other hard links. */
async function refuseShared(path: string, file: Deno.FsFile): Promise<void> {
  const info = await file.stat();
  if (!info.isFile) throw new InsecureTokenFileError(path, "the lock file is not a regular file");
  if (info.nlink !== null && info.nlink > 1) {
    throw new InsecureTokenFileError(
      path,
      `the lock file has ${info.nlink} hard links (another name points at the same file); ` +
        "remove it and try again",
    );
  }
}

async function readHolder(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await Deno.readTextFile(path), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
