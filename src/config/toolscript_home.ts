/** Where toolscript keeps its data: `$TOOLSCRIPT_HOME`, default `~/.toolscript`. */
import { join } from "node:path";
import type { EnvLookup } from "./expand_vars.ts";

/**
 * The data directory: `$TOOLSCRIPT_HOME` when set and not empty, else `<home>/.toolscript`.
 * Credentials live under `credentials/`, trusted project configs in `trusted.json`.
 *
 * @example
 * ```ts
 * import { toolscriptHome } from "./toolscript_home.ts";
 * toolscriptHome(() => undefined, "/home/me"); // "/home/me/.toolscript"
 * ```
 */
export function toolscriptHome(env: EnvLookup, home: string): string {
  return env("TOOLSCRIPT_HOME") || join(home, ".toolscript");
}
