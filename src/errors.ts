/**
 * Error classes shared by every layer. Each carries a stable `code` that `main.ts` maps to
 * an exit status, and, when the user can fix the problem, the `fix` command to print.
 *
 * Messages never contain secrets: no token, client secret, code, verifier or raw
 * token-endpoint body. Status codes and OAuth `error` codes are enough.
 */

/** Stable error codes; `main.ts` maps them to exit statuses. */
export type ToolscriptErrorCode =
  | "usage"
  | "config"
  | "not_authenticated"
  | "auth_failed"
  | "upstream"
  | "timeout"
  | "insecure_file"
  | "internal";

/** Options accepted by every toolscript error. */
export interface ToolscriptErrorOptions extends ErrorOptions {
  /** Stable machine-readable code. */
  code: ToolscriptErrorCode;
  /** A command the user can run to fix the problem. */
  fix?: string;
  /** When a login fixes the problem: its facts; `fix` then defaults to its command. */
  login?: LoginFix;
}

/**
 * The facts of a fix that is a new login: the edges (CLI, gateway results) render them as a
 * `toolscript auth` command, adding `--config <path>` when the config is not the default one
 * (see `src/fix_command.ts`).
 */
export interface LoginFix {
  /** The server to log in to. */
  server: string;
  /** The gateway caller whose login it is (`--caller`); undefined: the gateway's own. */
  caller?: string;
  /** Scopes the login should ask for, when a scope step-up is needed. */
  scopes?: string[];
  /** Further options of the command, e.g. `--client-id <id>`. */
  options?: string;
}

/** Base class of all errors toolscript raises on purpose. */
export class ToolscriptError extends Error {
  /** Stable machine-readable code. */
  readonly code: ToolscriptErrorCode;
  /**
   * A command the user can run to fix the problem, if any; for a {@link login} fix, its
   * command for the default config (the edges render the `--config` they know of).
   */
  readonly fix?: string;
  /** When a login fixes the problem: its facts (server, scopes, further options). */
  readonly login?: LoginFix;

  /**
   * Subclasses set `name`. Only `cause` of `options` reaches `Error`; keep secrets out of
   * `message` and `cause` alike.
   */
  constructor(message: string, options: ToolscriptErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ToolscriptError";
    this.code = options.code;
    this.fix = options.fix ?? (options.login && authCommand(options.login));
    if (options.login) this.login = options.login;
  }
}

/** A command line that cannot be parsed (exit 2). */
export class UsageError extends ToolscriptError {
  /** `options.fix` is usually `toolscript <command> --help`. Code `usage`. */
  constructor(message: string, options?: ErrorOptions & { fix?: string }) {
    super(message, { ...options, code: "usage" });
    this.name = "UsageError";
  }
}

/**
 * A config that cannot be found, parsed or validated (exit 2). `path` is the JSON path of
 * the offending value (`mcpServers.github.url`) and `file` the config file, when known.
 */
export class ConfigError extends ToolscriptError {
  /** The config file; undefined when unknown or there is none (the ad-hoc config). */
  readonly file?: string;
  /** JSON path of the offending value, e.g. `mcpServers.github.url`; undefined if not one. */
  readonly path?: string;
  /** Prefixes `message` with `<file>: <path>: ` for whichever are given. Code `config`. */
  constructor(
    message: string,
    options?: ErrorOptions & { file?: string; path?: string; fix?: string },
  ) {
    const where = [options?.file, options?.path].filter(Boolean).join(": ");
    super(where ? `${where}: ${message}` : message, { ...options, code: "config" });
    this.name = "ConfigError";
    this.file = options?.file;
    this.path = options?.path;
  }
}

/**
 * Builds the `toolscript auth <server>` command of a login fix, with `--config <configPath>`
 * when given (a config that is not found by the default lookup).
 */
export function authCommand(login: LoginFix, configPath?: string): string {
  let command = `toolscript auth ${login.server}`;
  if (login.caller) command += ` --caller ${login.caller}`;
  if (login.scopes?.length) command += ` --scope "${login.scopes.join(" ")}"`;
  if (configPath) command += ` --config ${configPath}`;
  if (login.options) command += ` ${login.options}`;
  return command;
}

/** A server needs an interactive login before it can be used (exit 3). */
export class NotAuthenticatedError extends ToolscriptError {
  /** The server's name in config. */
  readonly server: string;
  /** Why a login is needed, e.g. `the refresh token was rejected (invalid_grant)`. */
  readonly reason: string;
  /** Scopes the new login should ask for, when a scope step-up is needed. */
  readonly scopes?: string[];
  /**
   * Builds the message from `reason` (default "no stored credentials") and sets `login` (and
   * so `fix`, the `toolscript auth` command, with `--scope` when `scopes` are given). Code
   * `not_authenticated`.
   */
  constructor(
    server: string,
    options?: ErrorOptions & {
      reason?: string;
      scopes?: string[];
      /** The gateway caller whose login is missing (`--caller` in the fix). */
      caller?: string;
    },
  ) {
    const reason = options?.reason ?? "no stored credentials";
    const login: LoginFix = { server };
    if (options?.caller) login.caller = options.caller;
    if (options?.scopes?.length) login.scopes = options.scopes;
    super(`Cannot call server "${server}": ${reason}; run: ${authCommand(login)}`, {
      ...(options?.cause === undefined ? {} : { cause: options.cause }),
      code: "not_authenticated",
      login,
    });
    this.name = "NotAuthenticatedError";
    this.server = server;
    this.reason = reason;
    if (options?.scopes?.length) this.scopes = options.scopes;
  }
}

/** Obtaining or refreshing credentials failed in a way a retry will not fix by itself. */
export class AuthError extends ToolscriptError {
  /** The server whose credentials failed; undefined when not tied to one. */
  readonly server?: string;
  /** True when the failure is likely temporary (network, 5xx, 429). */
  readonly temporary: boolean;
  /** `temporary` defaults to false. Code `auth_failed`. */
  constructor(
    message: string,
    options?: ErrorOptions & {
      server?: string;
      temporary?: boolean;
      fix?: string;
      login?: LoginFix;
    },
  ) {
    super(message, { ...options, code: "auth_failed" });
    this.name = "AuthError";
    this.server = options?.server;
    this.temporary = options?.temporary ?? false;
  }
}

/** An upstream MCP server could not be reached or failed a request. */
export class UpstreamError extends ToolscriptError {
  /** The server's name in config. */
  readonly server: string;
  /** The message becomes `Server "<server>": <message>`. Code `upstream`. */
  constructor(server: string, message: string, options?: ErrorOptions) {
    super(`Server "${server}": ${message}`, { ...options, code: "upstream" });
    this.name = "UpstreamError";
    this.server = server;
  }
}

/** A credential file is unsafe to use (symlink, other owner). */
export class InsecureTokenFileError extends ToolscriptError {
  /** Path of the refused file or directory. */
  readonly file: string;
  /** The message names `file` and `reason`. Code `insecure_file`. */
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`Refusing credential file "${file}": ${reason}`, { ...options, code: "insecure_file" });
    this.name = "InsecureTokenFileError";
    this.file = file;
  }
}

/** Maps an error to the CLI exit status of the contract (1 failure, 2 usage/config, 3 auth). */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof ToolscriptError)) return 1;
  switch (error.code) {
    case "usage":
    case "config":
      return 2;
    case "not_authenticated":
      return 3;
    default:
      return 1;
  }
}

/**
 * A credential file that cannot be read as a credential document: not valid JSON, not the
 * expected shape, or of a format version this toolscript does not know. Not a security refusal
 * (that is {@link InsecureTokenFileError}): a new login replaces the file, so it is a missing
 * login (code `not_authenticated`, exit 3) whose `fix` is `toolscript auth <server>`. The
 * message names the file, never its content.
 */
export class UnreadableTokenFileError extends ToolscriptError {
  /** Path of the unreadable file. */
  readonly file: string;
  /** The server whose credentials the file holds. */
  readonly server: string;
  /** The message names `file` and `reason`. */
  constructor(file: string, server: string, reason: string, options?: ErrorOptions) {
    super(
      `Cannot use credential file "${file}" of server "${server}": ${reason}; a new login ` +
        `replaces it`,
      { ...options, code: "not_authenticated", login: { server } },
    );
    this.name = "UnreadableTokenFileError";
    this.file = file;
    this.server = server;
  }
}
