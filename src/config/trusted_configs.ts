/**
 * Project-config trust: a `./.toolscript.json` found by lookup can run commands and send
 * credentials, so it is used only once `toolscript trust` recorded the SHA-256 of its text in
 * `$TOOLSCRIPT_HOME/trusted.json`, and only while the text is unchanged.
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { isRecord } from "./is_record.ts";
import { ensurePrivateDir, readPrivateFile, writeFileAtomically } from "./private_file.ts";

/** The trust file's name inside `$TOOLSCRIPT_HOME`. */
export const TRUSTED_CONFIGS_FILE = "trusted.json";

/** Options of {@link checkConfigTrusted} and {@link trustConfig}. */
export interface TrustedConfigsOptions {
  /** `$TOOLSCRIPT_HOME` (see `toolscriptHome`); the trust file is `trusted.json` in it. */
  home: string;
  /** Receives permission warnings; default silent. */
  logger?: Logger;
  /** Clock for `trustedAt`, epoch ms; default `Date.now`. */
  now?: () => number;
}

/** What {@link trustConfig} recorded. */
export interface TrustRecord {
  /** The key: the config's absolute path with its directory's symlinks resolved. */
  file: string;
  /** SHA-256 of the config's text (UTF-8), lowercase hex. */
  sha256: string;
  /** When it was trusted, epoch ms. */
  trustedAt: number;
}

/** The `toolscript trust <path>` command line, the path quoted for a POSIX shell when needed. */
export function trustCommand(file: string): string {
  return `toolscript trust ${shellQuote(file)}`;
}

/** `text` as one POSIX shell word: as is when plain, else single-quoted. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_\-.,/:@%+=~]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A project config that was never trusted, or changed since (exit 2). `file` is the config as
 * found; `fix` is `toolscript trust <file>`.
 */
export class UntrustedConfigError extends ConfigError {
  /** `untrusted`: never trusted; `changed`: its text differs from the trusted one. */
  readonly reason: "untrusted" | "changed";
  /** Code `config`; the message names the file and says why it is refused. */
  constructor(file: string, reason: "untrusted" | "changed") {
    super(
      reason === "untrusted"
        ? "Project config is not trusted: it can run commands and send credentials; " +
          "review it, then trust it (a config given by --config or $TOOLSCRIPT_CONFIG needs no trust)"
        : "Project config changed since it was trusted; review it again, then trust it",
      { file, fix: trustCommand(file) },
    );
    this.name = "UntrustedConfigError";
    this.reason = reason;
  }
}

/** SHA-256 of config text, as UTF-8, in lowercase hex. */
export function configDigest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The key a config is trusted under: its absolute path with the directory's symlinks resolved,
 * but not the file's own. A `.toolscript.json` that links to a trusted config elsewhere is
 * another key, so it cannot borrow that trust in a directory where its relative paths mean
 * something else.
 */
export async function configTrustKey(file: string): Promise<string> {
  return join(await Deno.realPath(dirname(file)), basename(file));
}

/**
 * Resolves when `text`, read from `file`, is what `toolscript trust` recorded for that file.
 *
 * @throws {UntrustedConfigError} when it was never trusted or its text changed since.
 * @throws {ConfigError} when the trust file is not a trust document.
 * @throws {InsecureTokenFileError} when the trust file is a symlink, another user's, or
 *   writable by others.
 */
export async function checkConfigTrusted(
  file: string,
  text: string,
  options: TrustedConfigsOptions,
): Promise<void> {
  const key = await configTrustKey(file);
  const entry = (await readTrustDocument(options)).configs[key];
  if (!entry) throw new UntrustedConfigError(file, "untrusted");
  if (entry.sha256 !== configDigest(text)) throw new UntrustedConfigError(file, "changed");
}

/**
 * Records `text`, read from `file`, as trusted: creates `$TOOLSCRIPT_HOME` (0700) when missing
 * and rewrites the trust file atomically (0600). Entries of other configs are kept; two
 * concurrent calls race and one of the two new entries may be lost (it fails closed: that
 * config is refused until trusted again).
 *
 * @throws {ConfigError} when the trust file there is not a trust document.
 * @throws {InsecureTokenFileError} as {@link checkConfigTrusted}, or when `$TOOLSCRIPT_HOME` is
 *   a symlink or another user's.
 */
export async function trustConfig(
  file: string,
  text: string,
  options: TrustedConfigsOptions,
): Promise<TrustRecord> {
  const key = await configTrustKey(file);
  await ensurePrivateDir(options.home, options);
  const doc = await readTrustDocument(options);
  const record = { sha256: configDigest(text), trustedAt: (options.now ?? Date.now)() };
  doc.configs[key] = record;
  const bytes = new TextEncoder().encode(JSON.stringify(doc, null, 2) + "\n");
  await writeFileAtomically(join(options.home, TRUSTED_CONFIGS_FILE), bytes, options);
  return { file: key, ...record };
}

interface TrustDocument {
  version: 1;
  configs: Record<string, { sha256: string; trustedAt: number }>;
}

async function readTrustDocument(options: TrustedConfigsOptions): Promise<TrustDocument> {
  const path = join(options.home, TRUSTED_CONFIGS_FILE);
  const bytes = await readPrivateFile(path, options);
  if (bytes === undefined) return { version: 1, configs: {} };
  const unreadable = (reason: string) =>
    new ConfigError(`Cannot read the trusted configs file: ${reason}`, {
      file: path,
      fix: `rm ${shellQuote(path)}`,
    });
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw unreadable("it is not valid JSON");
  }
  if (!isRecord(doc) || doc.version !== 1 || !isRecord(doc.configs)) {
    throw unreadable('it is not a version 1 document with "configs"');
  }
  const configs: TrustDocument["configs"] = Object.create(null);
  for (const [key, entry] of Object.entries(doc.configs)) {
    if (isRecord(entry) && typeof entry.sha256 === "string") {
      configs[key] = {
        sha256: entry.sha256,
        trustedAt: typeof entry.trustedAt === "number" ? entry.trustedAt : 0,
      };
    }
  }
  return { version: 1, configs };
}
