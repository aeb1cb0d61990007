/**
 * Lists the modules a program would load before it runs (private to this folder). Deno loads a
 * program's static module graph without asking for `--allow-read`, so a sandboxed program
 * could otherwise `import` any JSON or TypeScript file on disk (and `--check` would echo a
 * broken file's text in its diagnostics). `deno info` resolves the same graph without
 * running or type-checking anything; the sandbox refuses programs whose graph reaches beyond
 * the files it wrote itself.
 */

/** Options of {@link foreignModules}. */
export interface ModuleGraphOptions {
  denoPath: string;
  /** The program's entry file (absolute path). */
  entry: string;
  /** The import map file (absolute path). */
  importMap: string;
  /** The whole environment of the `deno info` process. */
  env: Record<string, string>;
  cwd: string;
  /** Module specifiers (file URLs) the program may load. */
  allowed: ReadonlySet<string>;
  /** Called with the running process, so the caller can kill it (timeout, abort). */
  onSpawn?: (child: Deno.ChildProcess) => void;
}

interface InfoModule {
  specifier?: unknown;
}

/**
 * Returns the specifiers of every module in the entry's graph that is not in `allowed`,
 * sorted: other local files, remote, `npm:`, `jsr:` and `node:` modules alike. Nothing is
 * downloaded (`--no-remote`, `--no-npm`). The output of `deno info` is never shown: its
 * error texts can quote the files it read.
 *
 * @throws {Error} when `deno info` fails or prints something other than its JSON graph.
 */
export async function foreignModules(options: ModuleGraphOptions): Promise<string[]> {
  const child = new Deno.Command(options.denoPath, {
    args: [
      "info",
      "--json",
      "--no-config",
      "--no-lock",
      "--no-remote",
      "--no-npm",
      "--import-map",
      options.importMap,
      options.entry,
    ],
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  options.onSpawn?.(child);
  const output = await child.output();
  if (!output.success) throw new Error("Cannot list the program's imports: deno info failed");
  let modules: InfoModule[];
  try {
    const graph = JSON.parse(new TextDecoder().decode(output.stdout));
    modules = Array.isArray(graph?.modules) ? graph.modules : [];
  } catch {
    throw new Error("Cannot list the program's imports: deno info printed no module graph");
  }
  const foreign = new Set<string>();
  for (const module of modules) {
    const specifier = String(module.specifier);
    if (!options.allowed.has(specifier)) foreign.add(specifier);
  }
  return [...foreign].sort();
}
