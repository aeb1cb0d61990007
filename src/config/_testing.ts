/** Private to src/config specs: small helpers shared by the `*_test.ts` files. */
import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";

/** Runs `fn` and returns the ConfigError it throws; fails when it throws nothing or another error. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

/** Awaits `promise` and returns the ConfigError it rejects with. */
export async function rejectsConfigError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

/** A temp directory removed on dispose: `await using dir = await scratchDir();`. */
export async function scratchDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.realPath(await Deno.makeTempDir({ prefix: "toolscript-config-" }));
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** An env lookup over a plain map. */
export function envOf(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => Object.hasOwn(vars, name) ? vars[name] : undefined;
}
