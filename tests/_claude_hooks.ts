/** Runs the Claude Code plugin's hook scripts (plugins/claude/hooks/) the way Claude Code does. */
import { join } from "node:path";
import { REPO_ROOT } from "./_helpers.ts";

/** The plugin's hooks directory. */
export const HOOKS_DIR: string = join(REPO_ROOT, "plugins", "claude", "hooks");

/** How a hook run ended. */
export interface HookResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bash <hooks>/<script>` with `input` as JSON on stdin, exactly `env` as its environment,
 * and `cwd` (default: the repo root) as the session's working directory.
 */
export async function runHook(
  script: string,
  input: object,
  env: Record<string, string>,
  cwd?: string,
): Promise<HookResult> {
  const child = new Deno.Command("bash", {
    args: [join(HOOKS_DIR, script)],
    env,
    clearEnv: true,
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(input)));
  await writer.close();
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** The `export NAME=value` lines of a `$CLAUDE_ENV_FILE`, as a record. */
export function exportsOf(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/^export (\w+)=(\S+)$/gm)].map(([, name, value]) => [name, value]),
  );
}
