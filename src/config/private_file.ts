/**
 * Files under `$TOOLSCRIPT_HOME` that only their owner may read or change: a 0700 directory made
 * on demand, files read only after `lstat` says they are safe, and writes that replace a 0600 file
 * atomically (temp file, fsync, rename, directory fsync), so a reader sees the old content or the
 * new one, never part of either.
 */
import { dirname, join } from "node:path";
import { InsecureTokenFileError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { writeAll } from "../write_all.ts";

/** Options of the functions in this module. */
export interface PrivateFileOptions {
  /** Receives the warning when a directory mode is tightened, and debug lines; default silent. */
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * Makes `path` (and missing parents) a directory with mode 0700, or checks the one there: it may
 * not be a symbolic link nor belong to another user, and a wider mode is tightened with a warning.
 *
 * @throws {InsecureTokenFileError} when `path` is a symlink, not a directory, or another user's.
 */
export async function ensurePrivateDir(
  path: string,
  options: PrivateFileOptions = {},
): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    info = await Deno.lstat(path);
  }
  if (info.isSymlink) throw new InsecureTokenFileError(path, "it is a symbolic link");
  if (!info.isDirectory) throw new InsecureTokenFileError(path, "it is not a directory");
  refuseForeignOwner(path, info);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = info.mode & 0o777;
    await Deno.chmod(path, mode & 0o700);
    options.logger?.warn(
      `Tightened permissions of "${path}" from ${octal(mode)} to ${octal(mode & 0o700)}`,
    );
  }
}

/**
 * Reads a file only its owner can change; undefined when there is none.
 *
 * @throws {InsecureTokenFileError} when it is a symlink, not a regular file, another user's, or
 *   writable by group or others (anyone who can write it could change what it says).
 */
export async function readPrivateFile(
  path: string,
  options: PrivateFileOptions = {},
): Promise<Uint8Array | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  if (info.isSymlink) throw new InsecureTokenFileError(path, "it is a symbolic link");
  if (!info.isFile) throw new InsecureTokenFileError(path, "it is not a regular file");
  refuseForeignOwner(path, info);
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    throw new InsecureTokenFileError(path, "group or others can write it; run chmod 600 on it");
  }
  return await Deno.readFile(path, { signal: options.signal });
}

/**
 * Replaces `path` with `bytes` atomically, as a 0600 file: writes a fresh temp file in the same
 * directory, fsyncs it, renames it into place and fsyncs the directory (where the platform
 * allows). The directory must exist; see {@link ensurePrivateDir}. Not a lock: two writers race
 * and the last rename wins.
 */
export async function writeFileAtomically(
  path: string,
  bytes: Uint8Array,
  options: PrivateFileOptions = {},
): Promise<void> {
  options.signal?.throwIfAborted();
  const dir = dirname(path);
  const temp = join(dir, `.${crypto.randomUUID()}.tmp`);
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  try {
    try {
      await writeAll(file, bytes);
      await file.sync();
    } finally {
      file.close();
    }
    options.signal?.throwIfAborted();
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir, options.logger);
}

/**
 * Makes a rename or removal in directory `path` durable; some platforms refuse to sync a
 * directory, which is fine (logged at debug level).
 */
export async function syncDirectory(path: string, logger?: Logger): Promise<void> {
  try {
    const dir = await Deno.open(path, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  } catch (error) {
    logger?.debug("Cannot sync a directory", { dir: path, error: String(error) });
  }
}

/**
 * Refuses a file or directory another user owns (where the platform reports owners).
 * @throws {InsecureTokenFileError} naming `path`.
 */
export function refuseForeignOwner(path: string, info: Deno.FileInfo): void {
  const uid = Deno.uid();
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new InsecureTokenFileError(path, "it is owned by another user");
  }
}

/** A permission mode as users read it: `0600`. */
export function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}
