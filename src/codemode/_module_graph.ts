/**
 * What a sandboxed program's module graph may reach (private to this folder). Deno loads a
 * program's static imports (and, for `--check`, its type references) without asking for
 * `--allow-read`, so without a rule a program could `import` any JSON or TypeScript file on
 * disk, and the type checker would quote a broken file's text. The rule is an import map that
 * Deno applies to every specifier, static, dynamic (`import("node:" + "fs")`), in `data:` and
 * `blob:` modules and in workers alike: the run's own files map to themselves, every other
 * `file:`, `http:` and `https:` URL and every `node:` builtin maps into a `refused/` directory
 * that does not exist. Nothing there can be loaded, and the error names the refused
 * specifier. `npm:` and `jsr:` are refused by `--no-npm` and `--no-remote`; bare names other
 * than `toolscript` resolve to nothing.
 */
import { builtinModules } from "node:module";
import { pathToFileURL } from "node:url";

/** Builtins that exist only with the `node:` prefix, which `builtinModules` may omit. */
const PREFIX_ONLY_BUILTINS = ["node:sea", "node:sqlite", "node:test", "node:test/reporters"];

/** Refused URL prefixes and the folder of `refused/` each maps to (no `//` in a path). */
const URL_FOLDERS: Record<string, string> = {
  "file:///": "file/",
  "http://": "http/",
  "https://": "https/",
};

/** The directory (inside the run's own) that refused specifiers are mapped into. */
const REFUSED_DIR = "refused";

/**
 * The import map of a run (written to the run's directory, which holds every one of `files`):
 * `toolscript` is `tools`; each of `all` (absolute paths) maps to itself; everything else that
 * could be loaded is refused.
 */
export function sandboxImportMap(
  files: { tools: string; all: readonly string[] },
): { imports: Record<string, string> } {
  const imports: Record<string, string> = { toolscript: pathToFileURL(files.tools).href };
  for (const [prefix, folder] of Object.entries(URL_FOLDERS)) {
    imports[prefix] = `./${REFUSED_DIR}/${folder}`;
  }
  for (const name of [...builtinModules, ...PREFIX_ONLY_BUILTINS]) {
    const specifier = name.startsWith("node:") ? name : `node:${name}`;
    imports[specifier] = `./${REFUSED_DIR}/${specifier}`;
  }
  for (const path of files.all) {
    const url = pathToFileURL(path).href;
    imports[url] = url;
  }
  return { imports };
}

/**
 * Rewrites the refused directory's paths in a text Deno printed back to the specifier the
 * program asked for (`…/refused/node:fs` → `node:fs`), and reports each one found.
 */
export function restoreRefused(
  text: string,
  dir: string,
  onRefused: (specifier: string) => void,
): string {
  const prefixes = [`${pathToFileURL(dir).href}/${REFUSED_DIR}/`, `${dir}/${REFUSED_DIR}/`];
  let out = text;
  for (const prefix of prefixes) {
    let at = out.indexOf(prefix);
    while (at !== -1) {
      const rest = out.slice(at + prefix.length);
      const found = /^[^\s'"`]*/.exec(rest)![0].replace(/[.,:;)]+$/, "");
      const folder = Object.entries(URL_FOLDERS).find(([, f]) => found.startsWith(f));
      const specifier = folder ? folder[0] + found.slice(folder[1].length) : found;
      if (specifier !== "") onRefused(specifier);
      out = out.slice(0, at) + specifier + rest.slice(found.length);
      at = out.indexOf(prefix, at);
    }
  }
  return out;
}
