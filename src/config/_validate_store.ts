/**
 * The top-level `store` block (or `$TOOLSCRIPT_STORE_URL` / `$TOOLSCRIPT_STORE_KEY`): where
 * credentials are kept. Absent: the file store under `$TOOLSCRIPT_HOME/credentials/`.
 */
import { ConfigError } from "../errors.ts";
import { displayUrl } from "./display_url.ts";
import { expandStrings } from "./expand_vars.ts";
import { Fields, type ValidationContext } from "./_fields.ts";
import type { StoreConfig } from "./types.ts";

/** The variable giving the store URL when the config has no `store` block. */
export const STORE_URL_VARIABLE = "TOOLSCRIPT_STORE_URL";
/** The variable giving the store key (base64) when the config names no `encryptionKeyFile`. */
export const STORE_KEY_VARIABLE = "TOOLSCRIPT_STORE_KEY";

/**
 * Validates `raw` (the `store` value, undefined when absent) with the environment's fallbacks.
 * Records the URL's password and an env key as secrets.
 * @throws {ConfigError} with file and path: an unknown type, a URL that is not `redis://` or
 *   `rediss://` (never quoted: it may hold a password), or no encryption key.
 */
export function validateStore(ctx: ValidationContext, raw: unknown): StoreConfig | undefined {
  if (raw === undefined || raw === null) {
    const url = ctx.env(STORE_URL_VARIABLE);
    if (!url) return undefined;
    return {
      type: "redis",
      url: checkRedisUrl(ctx, url, STORE_URL_VARIABLE),
      encryptionKey: keyFromEnv(ctx, STORE_URL_VARIABLE),
    };
  }
  // Every variable's value is a secret here: the URL may carry a password.
  const expanded = expandStrings(raw, ctx.env, {
    path: "store",
    file: ctx.file,
    onVariable: (_name: string, value: string) => ctx.secrets.add(value),
  });
  const f = new Fields(ctx, expanded, "store", '"store"');
  f.allowKeys(["type", "url", "encryptionKeyFile"], '"store"');
  const type = f.oneOf("type", ["file", "redis"] as const) ?? "file";
  if (type === "file") {
    for (const key of ["url", "encryptionKeyFile"]) {
      if (f.has(key)) f.fail(key, `"${key}" needs "type": "redis"`);
    }
    return undefined;
  }
  const url = f.string("url") ?? ctx.env(STORE_URL_VARIABLE);
  if (!url) {
    return f.fail(
      "url",
      `Missing "url" (redis://host:port/db) in "store"; or set ${STORE_URL_VARIABLE}`,
    );
  }
  const where = f.has("url") ? f.at("url") : STORE_URL_VARIABLE;
  const file = f.filePath("encryptionKeyFile");
  return {
    type: "redis",
    url: checkRedisUrl(ctx, url, where),
    encryptionKey: file ? { file } : keyFromEnv(ctx, f.at("encryptionKeyFile")),
  };
}

function keyFromEnv(ctx: ValidationContext, path: string): { env: string; envValue: string } {
  const value = ctx.env(STORE_KEY_VARIABLE);
  if (!value) {
    throw new ConfigError(
      `The Redis store needs an encryption key: set "encryptionKeyFile" in "store" or ` +
        `${STORE_KEY_VARIABLE} (base64 of 32 random bytes, e.g. from: openssl rand -base64 32)`,
      { file: ctx.file, path },
    );
  }
  ctx.secrets.add(value);
  return { env: STORE_KEY_VARIABLE, envValue: value };
}

/** A `redis://` or `rediss://` URL whose path, if any, is a database number. */
function checkRedisUrl(ctx: ValidationContext, url: string, path: string): string {
  const fail = (why: string): never => {
    throw new ConfigError(why, { file: ctx.file, path });
  };
  if (!URL.canParse(url)) fail("Expected a redis:// or rediss:// URL");
  const parsed = new URL(url);
  if (parsed.password) {
    ctx.secrets.add(decodeURIComponent(parsed.password));
    ctx.secrets.add(parsed.password);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    fail(`Expected a redis:// or rediss:// URL, got ${displayUrl(parsed)}`);
  }
  if (!parsed.hostname) fail("Expected a host in the Redis URL");
  if (!/^\/?(\d+)?$/.test(parsed.pathname)) {
    fail(`The path of ${displayUrl(parsed)} must be a database number (redis://host:port/0)`);
  }
  if (parsed.search || parsed.hash) fail(`Unexpected query or fragment in ${displayUrl(parsed)}`);
  return url;
}
