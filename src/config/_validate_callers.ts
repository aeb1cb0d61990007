/**
 * `gateway.callers`: each caller of the gateway with its own bearer token (`token`,
 * `tokenFile` or `tokenEnv`), so calls can act with that caller's own OAuth credentials.
 */
import { Fields, secretKeys } from "./_fields.ts";
import type { SecretSource } from "./types.ts";

/** Caller names: as server names, so they are safe in commands and file names. */
export const CALLER_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Validates the `callers` object of the `gateway` block (`f`); undefined when absent.
 * Literal and env tokens are recorded as secrets; an empty one is refused.
 * @throws {ConfigError} naming file and path (`gateway.callers.alice.token`).
 */
export function validateCallers(f: Fields): Record<string, SecretSource> | undefined {
  if (!f.has("callers")) return undefined;
  const callers = new Fields(f.ctx, f.obj.callers, f.at("callers"), '"callers"');
  const out: Record<string, SecretSource> = {};
  for (const [name, entry] of Object.entries(callers.obj)) {
    if (!CALLER_NAME.test(name)) {
      callers.fail(name, "Invalid caller name; use 1 to 64 letters, digits, '_' or '-'");
    }
    const caller = new Fields(f.ctx, entry, callers.at(name), `caller "${name}"`);
    caller.allowKeys(secretKeys("token"), `caller "${name}"`);
    const token = caller.secretSource("token");
    if (!token) {
      return caller.fail(undefined, `Caller "${name}" needs "token", "tokenFile" or "tokenEnv"`);
    }
    if (token.value !== undefined && token.value.trim() === "") {
      caller.fail("token", `The token of caller "${name}" is empty; an empty token is refused`);
    }
    out[name] = token;
  }
  return out;
}
