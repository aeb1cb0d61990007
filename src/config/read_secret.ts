/**
 * Resolves a {@link SecretSource} to its value. File sources are read on every call, so a
 * rotated secret (a Kubernetes secret volume, a refreshed file) is picked up without restart.
 */
import { ConfigError } from "../errors.ts";
import type { Logger, Redactor } from "../log.ts";
import type { SecretSource } from "./types.ts";

/** Options of {@link readSecret}. */
export interface ReadSecretOptions {
  /** What the secret is, for messages: e.g. `client secret of server "internal"`. */
  what: string;
  /** Receives the warning about group/world-readable secret files. */
  logger?: Logger;
  /** Every value read is registered here (default: the logger's redactor). */
  redactor?: Redactor;
  /** Files already warned about; when given, each file is warned about once. */
  warned?: Set<string>;
  signal?: AbortSignal;
}

/**
 * Returns the secret: the literal value, the captured environment value, or the content of
 * the file with trailing whitespace (the newline editors add) trimmed. A file that group or
 * others can read is still used, with a warning that names the file, never the value.
 *
 * @throws {ConfigError} when the file is missing, unreadable or empty, or the variable is unset.
 *   The message names the file or variable, never the value.
 * @example
 * ```ts
 * import { readSecret } from "./read_secret.ts";
 * const secret = await readSecret({ value: "s3cret" }, { what: "API key of server \"search\"" });
 * ```
 */
export async function readSecret(
  source: SecretSource,
  options: ReadSecretOptions,
): Promise<string> {
  const { what } = options;
  let value: string | undefined;
  if (source.file !== undefined) {
    value = await readSecretFile(source.file, options);
  } else if (source.env !== undefined) {
    value = source.envValue;
    if (!value) {
      throw new ConfigError(`Cannot read ${what}: environment variable "${source.env}" is not set`);
    }
  } else {
    value = source.value;
    if (!value) throw new ConfigError(`Cannot read ${what}: no value configured`);
  }
  (options.redactor ?? options.logger?.redactor)?.addSecret(value);
  return value;
}

async function readSecretFile(file: string, options: ReadSecretOptions): Promise<string> {
  const { what, signal } = options;
  signal?.throwIfAborted();
  let text: string;
  let mode: number | null;
  try {
    mode = (await Deno.stat(file)).mode;
    text = await Deno.readTextFile(file, { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const reason = error instanceof Deno.errors.NotFound
      ? "the file does not exist"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : `${(error as Error).name}`;
    throw new ConfigError(`Cannot read ${what} from "${file}": ${reason}`, { cause: error });
  }
  if (mode !== null && (mode & 0o077) !== 0 && !options.warned?.has(file)) {
    options.warned?.add(file);
    options.logger?.warn(
      `Secret file "${file}" (${what}) is readable by other users; run: chmod 600 "${file}"`,
    );
  }
  const value = text.trimEnd();
  if (value === "") throw new ConfigError(`Cannot read ${what} from "${file}": the file is empty`);
  return value;
}
