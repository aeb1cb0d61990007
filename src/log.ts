/**
 * The one logger of the program and its redaction step. Every log line, every error message
 * printed by the CLI and every error text returned to an MCP client goes through
 * {@link Redactor.redact}.
 */
import { createHash } from "node:crypto";

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values are always secret, in headers, JSON bodies and URL query strings. */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|code|state|code_verifier|client_secret|client_assertion|assertion|password|secret|token|refresh_token|access_token|id_token|device_code|subject_token|actor_token|private_key|key|[a-z0-9_-]*_token|[a-z0-9_-]*secret)$/i;

/**
 * `code` and `state` are secrets as OAuth URL and form parameters, but as keys of our own
 * objects (`{"state": "ok"}`, an error `code`) they are not.
 */
function isSecretField(key: string): boolean {
  return SECRET_KEY.test(key) && key !== "code" && key !== "state";
}

const SHORTEST_SECRET = 4;

/** A short SHA-256 fingerprint that tells secrets apart without revealing them. */
export function fingerprint(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 8);
}

/**
 * Removes secrets from text and values before they are logged or shown. It knows secrets two
 * ways: by key name (`authorization`, `*_token`, `client_secret`, …) and by value, for every
 * secret registered with {@link Redactor.addSecret} (values read from `*File`/`*Env` sources,
 * tokens obtained from an authorization server, configured header values).
 * Values shorter than 4 characters are not registered.
 *
 * @example
 * ```ts
 * import { Redactor } from "./log.ts";
 * const redactor = new Redactor();
 * redactor.addSecret("k3y-123");
 * redactor.redactText("key=k3y-123 and Bearer abc.def"); // no secret left in the result
 * ```
 */
export class Redactor {
  /** Each registered secret and its escaped forms, mapped to the secret itself. */
  #secrets = new Map<string, string>();
  #pattern: RegExp | undefined;

  /**
   * Registers a secret value; from now on it never appears in redacted output, neither as is
   * nor in its JSON-escaped forms (`"` and `\` escaped, non-ASCII as `\uXXXX`, `/` as `\/`).
   */
  addSecret(secret: string | undefined): void {
    if (!secret || secret.length < SHORTEST_SECRET || this.#secrets.has(secret)) return;
    for (const form of escapedForms(secret)) {
      if (!this.#secrets.has(form)) this.#secrets.set(form, secret);
    }
    this.#pattern = undefined;
  }

  /** True when any secret value is registered. */
  get hasSecrets(): boolean {
    return this.#secrets.size > 0;
  }

  /**
   * Replaces only the registered secret values (and their escaped forms) with
   * `[redacted:<fingerprint>]`, leaving everything else as is: for content that is not ours to
   * rewrite, such as tool results, where {@link Redactor.redactText}'s `Bearer …` and
   * `key=value` patterns would mangle legitimate text.
   */
  maskSecrets(text: string): string {
    if (this.#secrets.size === 0) return text;
    this.#pattern ??= new RegExp(
      [...this.#secrets.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|"),
      "g",
    );
    return text.replace(
      this.#pattern,
      (s) => `[redacted:${fingerprint(this.#secrets.get(s) ?? s)}]`,
    );
  }

  /** Redacts a string: registered secret values, `Bearer …`, `Basic …` and secret URL params. */
  redactText(text: string): string {
    let out = this.maskSecrets(text);
    out = out.replace(
      /\b(Bearer|Basic|DPoP)\s+([A-Za-z0-9\-._~+/]+=*)/g,
      (_m, scheme: string, value: string) =>
        value.startsWith("[redacted") ? _m : `${scheme} [redacted:${fingerprint(value)}]`,
    );
    out = out.replace(
      /([?&#]|\b)([A-Za-z0-9_-]+)=([^&\s"'#]+)/g,
      (m, sep: string, key: string, value: string) =>
        SECRET_KEY.test(key) && !value.startsWith("[redacted")
          ? `${sep}${key}=[redacted:${fingerprint(value)}]`
          : m,
    );
    out = out.replace(
      /"([A-Za-z0-9_-]+)"\s*:\s*"([^"]*)"/g,
      (m, key: string, value: string) =>
        isSecretField(key) && value && !value.startsWith("[redacted")
          ? `"${key}":"[redacted:${fingerprint(value)}]"`
          : m,
    );
    return out;
  }

  /** Redacts any value: strings as text, objects and arrays key by key, errors by message. */
  redact(value: unknown, depth = 0): unknown {
    if (typeof value === "string") return this.redactText(value);
    if (value === null || typeof value !== "object" || depth > 8) return value;
    if (value instanceof Error) return this.redactText(value.message);
    if (value instanceof URL) return this.redactText(value.href);
    if (value instanceof Headers) {
      return this.redact(Object.fromEntries(value.entries()), depth + 1);
    }
    if (Array.isArray(value)) return value.map((v) => this.redact(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = isSecretField(key) && typeof v === "string" && v
        ? `[redacted:${fingerprint(v)}]`
        : this.redact(v, depth + 1);
    }
    return out;
  }
}

/** A secret as is and as JSON encoders may write it inside a string. */
function escapedForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const ascii = json.replace(
    /[^ -~]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  const forms = new Set([
    secret,
    json,
    ascii,
    json.replaceAll("/", "\\/"),
    ascii.replaceAll("/", "\\/"),
  ]);
  return [...forms].filter((form) => form.length >= SHORTEST_SECRET);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Options of {@link Logger}. */
export interface LoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
  /** Shared redactor; a fresh one when omitted. */
  redactor?: Redactor;
}

/**
 * Writes one redacted line per event, synchronously, to stderr (or `options.write`):
 * `[toolscript] <level> <message> {fields as JSON}`. Fields are redacted key by key, then the
 * whole line by value, so a secret registered with {@link Logger.redactor} never gets out.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 * const logger = new Logger({ level: "debug" });
 * logger.redactor.addSecret("s3cr3t-value");
 * logger.info("Token request", { client_secret: "s3cr3t-value", status: 200 });
 * // [toolscript] info Token request {"client_secret":"[redacted:…]","status":200}
 * ```
 */
export class Logger {
  /** Register secrets here; share it with anything else that prints (error messages). */
  readonly redactor: Redactor;
  /** Lowest level written. */
  readonly level: LogLevel;
  #write: (line: string) => void;

  /** Defaults: level `info`, stderr, a fresh {@link Redactor}. */
  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? "info";
    this.redactor = options.redactor ?? new Redactor();
    const encoder = new TextEncoder();
    this.#write = options.write ??
      ((line) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
  }

  /** True when lines of `level` are written. */
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= LEVELS[this.level];
  }

  /** Logs detail for troubleshooting (`TOOLSCRIPT_LOG=debug`). */
  debug(message: string, fields?: Record<string, unknown>): void {
    this.#log("debug", message, fields);
  }
  /** Logs normal progress. */
  info(message: string, fields?: Record<string, unknown>): void {
    this.#log("info", message, fields);
  }
  /** Logs something the user should look at that did not stop the work. */
  warn(message: string, fields?: Record<string, unknown>): void {
    this.#log("warn", message, fields);
  }
  /** Logs a failure. */
  error(message: string, fields?: Record<string, unknown>): void {
    this.#log("error", message, fields);
  }

  #log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    let line = `[toolscript] ${level} ${message}`;
    if (fields && Object.keys(fields).length > 0) {
      line += " " + JSON.stringify(this.redactor.redact(fields));
    }
    // Messages quote upstream text (stderr lines, error texts): keep it from driving the terminal.
    this.#write(stripControlChars(this.redactor.redactText(line)));
  }
}

/** The outcome of {@link parseLogLevel}. */
export interface ParsedLogLevel {
  /** The level to use. */
  level: LogLevel;
  /** The value as given, when it named no level (the level is then `info`). */
  unknown?: string;
}

/**
 * Parses `TOOLSCRIPT_LOG` in any letter case (`debug`, `WARN`); unset or empty gives `info`.
 * An unknown value also gives `info`, and is returned as `unknown` so the caller can say so.
 */
export function parseLogLevel(value: string | undefined): ParsedLogLevel {
  const name = value?.trim().toLowerCase();
  if (!name) return { level: "info" };
  if (Object.hasOwn(LEVELS, name)) return { level: name as LogLevel };
  return { level: "info", unknown: value };
}

/** A logger that writes nothing; for library callers that pass none. */
export function silentLogger(): Logger {
  return new Logger({ level: "error", write: () => {} });
}

/**
 * C0 and C1 control characters other than tab and newline, DEL, and the Unicode bidi controls
 * (which reorder what a terminal shows).
 */
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text from an upstream, an authorization server or a tool safe to print on a terminal:
 * removes escape sequences' lead characters and every other control character (keeping tab and
 * newline), so a hostile string cannot move the cursor, retitle the window or hide text.
 *
 * @example
 * ```ts
 * import { stripControlChars } from "./log.ts";
 * stripControlChars("ok\x1b[2Jgone"); // "ok[2Jgone"
 * ```
 */
export function stripControlChars(text: string): string {
  return text.replace(UNPRINTABLE, "");
}
