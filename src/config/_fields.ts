/**
 * Private to src/config: typed readers for one JSON object of the config, each failing with a
 * {@link ConfigError} that carries the file and the JSON path of the offending value.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { isRecord } from "./is_record.ts";
import { isLoopbackHost } from "./loopback.ts";
import type { SecretSource } from "./types.ts";

/** State shared while one config is validated. */
export interface ValidationContext {
  /** The config file, when there is one; relative paths resolve against its directory. */
  file?: string;
  env: (name: string) => string | undefined;
  /** Secret values met so far. */
  secrets: Set<string>;
}

/** Keys starting with `_` or `$` (`_comment`, `$schema`) are ignored everywhere. */
export function isIgnoredKey(key: string): boolean {
  return key.startsWith("_") || key.startsWith("$");
}

/** Appends `key` to a JSON path: `a.b` for plain keys, `a["x y"]` otherwise. */
export function joinPath(path: string | undefined, key: string | number): string {
  if (typeof key === "number") return `${path ?? ""}[${key}]`;
  if (!/^[A-Za-z0-9_$-]+$/.test(key)) return `${path ?? ""}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * Values of headers with ordinary names (`X-Team: core`) shorter than this are not recorded as
 * secrets: the redactor replaces a secret wherever it appears, and a short common word would
 * mangle unrelated log lines. Token-like values are longer.
 */
const SHORTEST_HEADER_SECRET = 12;
/** An RFC 7230 `token`, the syntax of a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CONTROL = /[\r\n\0]/;
/** Header and environment variable names whose values are credentials. */
const SECRET_NAME =
  /^(authorization|proxy-authorization|cookie)$|api[-_]?key|(^|[-_])key$|token|secret|passw/i;

/** True when a header or environment variable of this name holds a credential. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Number constraints for {@link Fields.number}. */
interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
}

/** The keys a secret may be given in, as {@link Fields.secretSource} reads them. */
export function secretKeys(base: string): [string, string, string] {
  return [base, `${base}File`, `${base}Env`];
}

/** Reads the fields of one JSON object at `path`. */
export class Fields {
  readonly ctx: ValidationContext;
  readonly obj: Record<string, unknown>;
  readonly path: string;

  constructor(ctx: ValidationContext, value: unknown, path: string, what: string) {
    if (!isRecord(value)) {
      throw new ConfigError(`Expected ${what} to be a JSON object`, {
        file: ctx.file,
        path: path || undefined,
      });
    }
    this.ctx = ctx;
    this.obj = value;
    this.path = path;
  }

  /** JSON path of `key` in this object. */
  at(key: string): string {
    return joinPath(this.path, key);
  }

  /** Throws a ConfigError about `key` (or about this object when `key` is undefined). */
  fail(key: string | undefined, message: string): never {
    throw new ConfigError(message, {
      file: this.ctx.file,
      path: key === undefined ? this.path || undefined : this.at(key),
    });
  }

  /** True when `key` is present and not null. */
  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  /** Rejects keys not in `allowed` (typo protection), except ignored `_`/`$` keys. */
  allowKeys(allowed: readonly string[], what: string): void {
    for (const key of Object.keys(this.obj)) {
      if (isIgnoredKey(key) || allowed.includes(key)) continue;
      const near = allowed.find((candidate) => isNear(key, candidate));
      this.fail(
        key,
        `Unknown key "${key}" in ${what}` +
          (near ? `; did you mean "${near}"?` : `; allowed keys: ${allowed.join(", ")}`),
      );
    }
  }

  /** A non-empty string, or undefined when absent. */
  string(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const value = this.obj[key];
    if (typeof value !== "string") this.fail(key, `Expected "${key}" to be a string`);
    if (value === "") this.fail(key, `Expected "${key}" not to be empty`);
    return value;
  }

  /** A non-empty string that must be present. */
  requiredString(key: string, what: string): string {
    const value = this.string(key);
    if (value === undefined) this.fail(key, `Missing "${key}": ${what} needs it`);
    return value;
  }

  /** A boolean (or the string "true"/"false" left by `${VAR}`), `fallback` when absent. */
  boolean(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.obj[key];
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    this.fail(key, `Expected "${key}" to be true or false`);
  }

  /** A number (or a numeric string left by `${VAR}`) obeying `rule`, undefined when absent. */
  number(key: string, rule: NumberRule): number | undefined {
    if (!this.has(key)) return undefined;
    const raw = this.obj[key];
    const value = typeof raw === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    const bounds = [
      rule.min !== undefined ? `>= ${rule.min}` : "",
      rule.above !== undefined ? `> ${rule.above}` : "",
      rule.max !== undefined ? `<= ${rule.max}` : "",
      rule.below !== undefined ? `< ${rule.below}` : "",
    ].filter(Boolean).join(" and ");
    const expected = `Expected "${key}" to be ${rule.integer ? "an integer" : "a number"}` +
      (bounds ? ` ${bounds}` : "");
    if (
      typeof value !== "number" || !Number.isFinite(value) ||
      (rule.integer && !Number.isInteger(value)) ||
      (rule.min !== undefined && value < rule.min) ||
      (rule.max !== undefined && value > rule.max) ||
      (rule.above !== undefined && value <= rule.above) ||
      (rule.below !== undefined && value >= rule.below)
    ) this.fail(key, expected);
    return value;
  }

  /** An array of strings, or undefined when absent. */
  stringArray(key: string): string[] | undefined {
    if (!this.has(key)) return undefined;
    const value = this.obj[key];
    if (!Array.isArray(value)) this.fail(key, `Expected "${key}" to be an array of strings`);
    value.forEach((item, i) => {
      if (typeof item !== "string") {
        throw new ConfigError(`Expected "${key}" to hold only strings`, {
          file: this.ctx.file,
          path: joinPath(this.at(key), i),
        });
      }
    });
    return [...value];
  }

  /** An object of string values, or undefined when absent. */
  stringMap(key: string, what: string): Record<string, string> | undefined {
    if (!this.has(key)) return undefined;
    const map: Fields = new Fields(this.ctx, this.obj[key], this.at(key), what);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(map.obj)) {
      if (typeof value !== "string") {
        map.fail(name, `Expected the value of "${name}" to be a string`);
      }
      out[name] = value;
    }
    return out;
  }

  /**
   * HTTP headers: RFC 7230 names, no CR/LF/NUL. Values under credential-like names
   * (`Authorization`, `X-Api-Key`) become secrets, also the credentials after a `Scheme `; under
   * other names, values of 12 or more characters (likely tokens) do too.
   */
  headers(key: string): Record<string, string> | undefined {
    const headers = this.stringMap(key, `"${key}"`);
    if (!headers) return undefined;
    const path = this.at(key);
    for (const [name, value] of Object.entries(headers)) {
      const fail = (message: string): never => {
        throw new ConfigError(message, { file: this.ctx.file, path: joinPath(path, name) });
      };
      if (CONTROL.test(name) || CONTROL.test(value)) {
        fail("Header names and values must not contain CR, LF or NUL characters");
      }
      if (!TOKEN.test(name)) {
        fail("Invalid header name; use letters, digits and -_.!#$%&'*+^`|~ only");
      }
      if (isSecretName(name)) this.addSecret(value);
      else if (value.length >= SHORTEST_HEADER_SECRET) this.ctx.secrets.add(value);
    }
    return headers;
  }

  /** An environment map for a child process; values under credential-like names become secrets. */
  envMap(key: string): Record<string, string> | undefined {
    const env = this.stringMap(key, `"${key}"`);
    for (const [name, value] of Object.entries(env ?? {})) {
      if (name.includes("=") || name.includes("\0") || value.includes("\0")) {
        throw new ConfigError("Environment names must not contain '=' or NUL", {
          file: this.ctx.file,
          path: joinPath(this.at(key), name),
        });
      }
      if (isSecretName(name)) this.addSecret(value);
    }
    return env;
  }

  /** One of `values`, or undefined when absent. */
  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    if (!this.has(key)) return undefined;
    const value = this.obj[key];
    if (typeof value !== "string" || !values.includes(value as T)) {
      this.fail(key, `Expected "${key}" to be one of ${values.map((v) => `"${v}"`).join(", ")}`);
    }
    return value as T;
  }

  /**
   * An absolute http(s) URL. `http://` to a host that is not loopback is refused unless
   * `allowInsecureHttp`. Never puts the URL in a message: it may carry a token.
   */
  url(key: string, allowInsecureHttp: boolean): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    return checkHttpUrl(this.ctx, value, this.at(key), allowInsecureHttp);
  }

  /** A file path, resolved against the config file's directory when relative. */
  filePath(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined || isAbsolute(value)) return value;
    if (!this.ctx.file) this.fail(key, `Expected "${key}" to be an absolute path`);
    return resolve(dirname(this.ctx.file), value);
  }

  /**
   * A secret given as `<base>` (literal), `<base>File` or `<base>Env`; undefined when none is.
   * Literal and env values are recorded as secrets unless `secret` is false.
   */
  secretSource(base: string, secret = true): SecretSource | undefined {
    const given = secretKeys(base).filter((key) => this.has(key));
    if (given.length > 1) {
      this.fail(given[1], `Give only one of "${given.join('", "')}"`);
    }
    const [key] = given;
    if (key === undefined) return undefined;
    if (key === base) {
      const value = this.string(key)!;
      if (secret) this.addSecret(value);
      return { value };
    }
    if (key.endsWith("File")) return { file: this.filePath(key)! };
    const name = this.string(key)!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(key, `Invalid variable name in "${key}"`);
    const envValue = this.ctx.env(name);
    if (envValue === undefined || envValue === "") {
      this.fail(key, `Environment variable "${name}" named by "${key}" is not set; set it`);
    }
    if (secret) this.addSecret(envValue);
    return { env: name, envValue };
  }

  /** Records a secret value; for `Scheme credentials` also the credentials alone. */
  addSecret(value: string): void {
    if (!value) return;
    this.ctx.secrets.add(value);
    const credentials = /^[A-Za-z][A-Za-z0-9-]*\s+(\S.*)$/.exec(value)?.[1];
    if (credentials) this.ctx.secrets.add(credentials);
  }
}

/**
 * Validates an http(s) URL as {@link Fields.url} does; `path` names it in errors.
 * `insecureHint` replaces the advice given for a refused `http://` URL (default: set
 * `allowInsecureHttp` on the server, which a server from the environment cannot).
 */
export function checkHttpUrl(
  ctx: ValidationContext,
  value: string,
  path: string,
  allowInsecureHttp: boolean,
  insecureHint = 'use https://, or set "allowInsecureHttp": true on this server',
): string {
  const fail = (message: string): never => {
    throw new ConfigError(message, { file: ctx.file, path });
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail("Invalid URL; expected an absolute https:// (or loopback http://) URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    fail("Unsupported URL scheme; expected https:// (or loopback http://)");
  }
  if (url.protocol === "http:" && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    fail(`Refusing plain http:// to a host that is not loopback; ${insecureHint}`);
  }
  if (url.password) {
    ctx.secrets.add(url.password);
    try {
      ctx.secrets.add(decodeURIComponent(url.password));
    } catch {
      // Not valid percent-encoding: the raw form above is what appears in logs.
    }
  }
  return value;
}

/** True when `a` is a likely typo of `b` (case-insensitive edit distance 1, or 2 when long). */
function isNear(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const most = x.length >= 6 ? 2 : 1;
  if (Math.abs(x.length - y.length) > most) return false;
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[y.length] <= most;
}
