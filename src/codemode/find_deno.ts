/** Finds the Deno executable that runs code-mode programs. */
import { basename, delimiter, join } from "node:path";
import { ToolscriptError } from "../errors.ts";

/**
 * The Deno that runs programs: this process's own executable when it is Deno, else (in a
 * `deno compile`d toolscript) the first `deno` on `PATH` (from `env`).
 *
 * @throws {ToolscriptError} (code `internal`, fix: install Deno) when there is none.
 */
export async function findDeno(env: (name: string) => string | undefined): Promise<string> {
  const self = Deno.execPath();
  if (/^deno(\.exe)?$/i.test(basename(self))) return self;
  const names = Deno.build.os === "windows" ? ["deno.exe"] : ["deno"];
  for (const dir of (env("PATH") ?? "").split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(dir, name);
      const info = await Deno.stat(candidate).catch(() => undefined);
      if (info?.isFile) return candidate;
    }
  }
  throw new ToolscriptError("Cannot run programs: toolscript exec needs Deno 2 on PATH", {
    code: "internal",
    fix: "npm install -g deno",
  });
}
