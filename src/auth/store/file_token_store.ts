/**
 * The production {@link TokenStore}: one JSON file per server under
 * `$TOOLSCRIPT_HOME/credentials/`, written atomically and locked across processes.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { InsecureTokenFileError } from "../../errors.ts";
import {
  octal,
  refuseForeignOwner,
  syncDirectory,
  writeFileAtomically,
} from "../../config/private_file.ts";
import { type Logger, silentLogger } from "../../log.ts";
import { decodeServerName, encodeServerName } from "../../config/server_file_name.ts";
import {
  checkDocument,
  documentForUrl,
  parseDocument,
  runTransaction,
} from "./_credential_file.ts";
import { acquireFileLock, LockQueue } from "./file_lock.ts";
import { watchCredentialDir } from "./file_store_watch.ts";
import type { CredentialDocument, TokenStore, TokenTransaction } from "./token_store.ts";

/** Options of {@link FileTokenStore}. */
export interface FileTokenStoreOptions {
  /** The credentials directory, `$TOOLSCRIPT_HOME/credentials`; its parent is `$TOOLSCRIPT_HOME`. */
  dir: string;
  /** Receives permission warnings; silent by default. */
  logger?: Logger;
  /** Clock for `updatedAt`, epoch ms; default `Date.now`. */
  now?: () => number;
  /** Longest pause between lock attempts while another process holds a lock; default 100. */
  lockPollMs?: number;
}

/**
 * Keeps credential documents on disk, one file per server, named by the percent-encoded
 * server name (`github.json`; anything but `a-z 0-9 _ -` is encoded, so distinct names
 * never share a file, not even on a case-insensitive file system).
 *
 * Creates `$TOOLSCRIPT_HOME` and the credentials directory with mode 0700 and each file
 * with mode 0600; wider modes found on disk are tightened with a warning. Neither directory
 * may be a symbolic link, and no credential or lock file may have a second hard link. A save writes a
 * fresh temp file, fsyncs it and renames it into place while holding an exclusive lock on
 * `<name>.lock`, so concurrent processes never see a half-written file; inside a
 * {@link FileTokenStore.transaction} the transaction's own `save` and `delete` write under the
 * lock it holds. Reads take no lock; callers that decide something from what they read (refresh or not)
 * must re-read after taking the lock.
 *
 * @throws {InsecureTokenFileError} when a file is a symlink, has more than one hard link or is
 *   owned by another user, or `$TOOLSCRIPT_HOME` or the credentials directory is a symlink.
 * @throws {UnreadableTokenFileError} when a file is not a credential document of a known version.
 * @example Round-trip a credential document
 * ```ts
 * import { FileTokenStore } from "./file_token_store.ts";
 * const home = await Deno.makeTempDir();
 * const store = new FileTokenStore({ dir: `${home}/credentials` });
 * await store.save({
 *   version: 1,
 *   server: "github",
 *   serverUrl: "https://api.githubcopilot.com/mcp/",
 *   tokens: { accessToken: "a1", expiresAt: Date.now() + 60_000 },
 *   updatedAt: 0,
 * });
 * const doc = await store.load("github", "https://api.githubcopilot.com/mcp/"); // same document
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export class FileTokenStore implements TokenStore {
  /** The credentials directory. */
  readonly dir: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #pollMs: number | undefined;
  readonly #queue = new LockQueue();
  /** The gateway's own credentials directory; caller views live under its `callers/`. */
  #baseDir: string;
  #caller: string | undefined;

  /** Creates a store; touches no file until first used. */
  constructor(options: FileTokenStoreOptions) {
    this.dir = options.dir;
    this.#baseDir = options.dir;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
    this.#pollMs = options.lockPollMs;
  }

  /** The caller whose documents this view holds; undefined: the gateway's own. */
  get caller(): string | undefined {
    return this.#caller;
  }

  /** See {@link TokenStore.forCaller}: `<dir>/callers/<caller>/` (created 0700 on first write). */
  forCaller(caller: string | undefined): FileTokenStore {
    if (caller === this.#caller) return this;
    const base = this.#baseDir;
    const view = new FileTokenStore({
      dir: caller === undefined ? base : join(base, "callers", encodeServerName(caller)),
      logger: this.#logger,
      now: this.#now,
      lockPollMs: this.#pollMs,
    });
    view.#baseDir = base;
    view.#caller = caller;
    return view;
  }

  /** See {@link TokenStore.watch}: a watch of the credentials directory. */
  watch(onChange: (server: string | undefined) => void, signal: AbortSignal): void {
    watchCredentialDir(this.dir, onChange, signal);
  }

  /** See {@link TokenStore.load}. */
  async load(
    server: string,
    serverUrl: string,
    signal?: AbortSignal,
  ): Promise<CredentialDocument | undefined> {
    const path = this.#path(server, ".json");
    signal?.throwIfAborted();
    if (!(await this.#prepareDirs(false))) return undefined;
    const bytes = await this.#readChecked(path, signal);
    if (!bytes) return undefined;
    return documentForUrl(parseDocument(path, server, bytes), serverUrl, this.#logger);
  }

  /** See {@link TokenStore.save}. Stamps `updatedAt` with the store's clock. */
  async save(doc: CredentialDocument, signal?: AbortSignal): Promise<void> {
    checkDocument(doc);
    await this.transaction(doc.server, (tx) => tx.save(doc), signal);
  }

  /** See {@link TokenStore.delete}. Takes the server's lock; leaves the lock file in place. */
  async delete(server: string, signal?: AbortSignal): Promise<boolean> {
    if (!(await this.#prepareDirs(false))) return false;
    return await this.transaction(server, (tx) => tx.delete(), signal);
  }

  /**
   * See {@link TokenStore.transaction}. Same-process callers queue in order; other processes
   * are excluded by an OS lock that dies with its holder.
   * @throws the signal's reason, unchanged, when `signal` aborts while waiting.
   */
  async transaction<T>(
    server: string,
    fn: (tx: TokenTransaction) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    await this.#prepareDirs(true);
    using _turn = await this.#queue.acquire(server, signal);
    await using _lock = await acquireFileLock(this.#path(server, ".lock"), {
      signal,
      logger: this.#logger,
      pollMs: this.#pollMs,
    });
    return await runTransaction(server, {
      load: (serverUrl) => this.load(server, serverUrl, signal),
      save: (doc) => this.#write(doc, signal),
      delete: () => this.#remove(server),
    }, fn);
  }

  async #write(doc: CredentialDocument, signal?: AbortSignal): Promise<void> {
    checkDocument(doc);
    const bytes = new TextEncoder().encode(
      JSON.stringify({ ...doc, updatedAt: this.#now() }, null, 2) + "\n",
    );
    await writeFileAtomically(this.#path(doc.server, ".json"), bytes, {
      signal,
      logger: this.#logger,
    });
  }

  async #remove(server: string): Promise<boolean> {
    try {
      await Deno.remove(this.#path(server, ".json"));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
    await syncDirectory(this.dir, this.#logger);
    return true;
  }

  /** See {@link TokenStore.version}: a digest of the file's bytes. */
  async version(server: string): Promise<string | undefined> {
    const path = this.#path(server, ".json");
    try {
      const info = await Deno.lstat(path);
      if (!info.isFile) return `not-a-file:${info.mtime?.getTime()}`;
      return createHash("sha256").update(await Deno.readFile(path)).digest("hex").slice(0, 32);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** See {@link TokenStore.list}. Ignores temp, lock and foreign files. */
  async list(): Promise<string[]> {
    if (!(await this.#prepareDirs(false))) return [];
    const names: string[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      if (!entry.name.endsWith(".json")) continue;
      const name = decodeServerName(entry.name.slice(0, -".json".length));
      if (name !== undefined) names.push(name);
    }
    return names.sort();
  }

  #path(server: string, extension: ".json" | ".lock"): string {
    return join(this.dir, encodeServerName(server) + extension);
  }

  /**
   * Checks (and with `create`, makes) `$TOOLSCRIPT_HOME` and the credentials directory;
   * false when absent. Not cached: a directory removed and re-created by another process
   * is handled, and it costs two `stat` calls.
   */
  async #prepareDirs(create: boolean): Promise<boolean> {
    for (const path of [dirname(this.dir), this.dir]) {
      if (!(await this.#prepareDir(path, create))) return false;
    }
    return true;
  }

  /**
   * `lstat`, not `stat`: a symlinked `$TOOLSCRIPT_HOME` or credentials directory is refused,
   * never followed (following it would store secrets, and tighten modes, wherever it points).
   */
  async #prepareDir(path: string, create: boolean): Promise<boolean> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (!create) return false;
      await Deno.mkdir(path, { recursive: true, mode: 0o700 });
      info = await Deno.lstat(path);
    }
    if (info.isSymlink) {
      throw new InsecureTokenFileError(
        path,
        "the directory is a symbolic link; toolscript does not follow a symlinked " +
          "TOOLSCRIPT_HOME or credentials directory (point TOOLSCRIPT_HOME at the real directory)",
      );
    }
    if (!info.isDirectory) throw new InsecureTokenFileError(path, "it is not a directory");
    refuseForeignOwner(path, info);
    await this.#tighten(path, info, 0o700);
    return true;
  }

  /** `lstat` first: refuses symlinks, other owners; tightens loose modes. */
  async #readChecked(path: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    try {
      const info = await Deno.lstat(path);
      if (info.isSymlink) throw new InsecureTokenFileError(path, "it is a symbolic link");
      if (!info.isFile) throw new InsecureTokenFileError(path, "it is not a regular file");
      if (info.nlink !== null && info.nlink > 1) {
        throw new InsecureTokenFileError(
          path,
          `it has ${info.nlink} hard links (another name points at the same file)`,
        );
      }
      refuseForeignOwner(path, info);
      await this.#tighten(path, info, 0o600);
      return await Deno.readFile(path, { signal });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  async #tighten(path: string, info: Deno.FileInfo, allowed: number): Promise<void> {
    if (info.mode === null) return; // no Unix modes on this platform
    const mode = info.mode & 0o777;
    if ((mode & ~allowed) === 0) return;
    await Deno.chmod(path, mode & allowed);
    this.#logger.warn(
      `Tightened permissions of "${path}" from ${octal(mode)} to ${octal(mode & allowed)}`,
    );
  }
}
