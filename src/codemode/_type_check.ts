/**
 * Spec helper (private to this folder): type-checks generated TypeScript with a real
 * `deno check` run in a scratch directory outside the repository, so no config applies
 * beyond Deno's defaults (strict).
 */

import { join } from "node:path";

/** How a `deno check` run ended. */
export interface TypeCheckResult {
  ok: boolean;
  /** The compiler's diagnostics (stderr), colours off. */
  diagnostics: string;
}

/** Writes `files` (name → text) to a scratch directory and runs `deno check` on `entries`. */
export async function typeCheck(
  files: Record<string, string>,
  entries: string[] = Object.keys(files),
): Promise<TypeCheckResult> {
  const dir = await Deno.makeTempDir({ prefix: "toolscript-typecheck-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--no-config", ...entries],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { ok: output.success, diagnostics: new TextDecoder().decode(output.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
