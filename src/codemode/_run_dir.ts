/**
 * The directory a sandboxed run's files live in (private to this folder). Deno keys its
 * type-check cache by module path, so a fresh directory per run re-checks the tools module and
 * the preamble every time. Under a run root (a private directory of the user's), a run instead
 * takes a reusable slot: `<root>/<key>/<n>/`, where `key` hashes everything but the program
 * that the check depends on (tools module, preamble, globals, compiler options, Deno version,
 * this layout's version). The program is the one file that changes between two runs of a
 * slot, so Deno re-checks it alone; an unchanged program is not re-checked at all. Deno's
 * cache is keyed by content, so a changed file is always checked again.
 *
 * A slot is used by one run at a time (an exclusive `flock` on its `.lock`, which the OS
 * drops when the process dies); every file is removed and written anew by each run, so what
 * runs is what this run wrote. Directories are 0700 and refused when they are symbolic links
 * or another user's. Without a root, when every slot is busy or on any file error, the run
 * gets a fresh temporary directory that is removed afterwards.
 */
import { join } from "node:path";
import { ensurePrivateDir } from "../config/private_file.ts";
import { sandboxImportMap } from "./_module_graph.ts";
import { RELAY_PREAMBLE_SOURCE } from "./_relay.ts";
import { SANDBOX_COMPILER_OPTIONS, SANDBOX_GLOBALS_SOURCE } from "./_sandbox_types.ts";

/** Runs that may reuse one tools module's slots at once; more get temporary directories. */
export const MAX_RUN_SLOTS = 4;

/** Slot directories unused for this long are removed (by the next run that finishes). */
export const RUN_DIR_MAX_IDLE_MS = 24 * 60 * 60 * 1000;

/** Bumped whenever the files of a run change shape. */
const LAYOUT_VERSION = 1;

/** The files of a run. */
export interface RunFiles {
  /** The directory holding every file of the run. */
  dir: string;
  /** The module `deno run` starts: imports the globals, the preamble, then the program. */
  entry: string;
  /** The import map (see `sandboxImportMap`). */
  importMap: string;
  /** The `deno.json` holding only the compiler options. */
  config: string;
}

/** A run's directory; disposing frees it (a slot) or removes it (a temporary one). */
export interface RunDir extends RunFiles, AsyncDisposable {
  /** Whether this is a reused slot (false: a temporary directory). */
  reused: boolean;
}

/** The modules of a run besides the program, and their names. */
const FIXED_NAMES = ["globals.ts", "preamble.ts", "tools.ts", "main.ts"] as const;
const ENTRY_SOURCE = `import "./globals.ts";\n` +
  // Imports evaluate in order: the preamble is done before the program's first line runs.
  `import "./preamble.ts";\nimport "./program.ts";\n`;

/**
 * Writes the run's files (the program `code`, the tools module `toolsSource` and the fixed
 * ones) into a slot under `root`, or a fresh temporary directory when there is no `root` or
 * no usable slot.
 */
export async function openRunDir(
  code: string,
  toolsSource: string,
  root: string | undefined,
): Promise<RunDir> {
  if (root !== undefined) {
    const slot = await openSlot(code, toolsSource, root).catch(() => undefined);
    if (slot !== undefined) return slot;
  }
  const dir = await Deno.makeTempDir({ prefix: "toolscript-exec-" });
  try {
    const files = await writeRunFiles(dir, code, toolsSource);
    return {
      ...files,
      reused: false,
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

async function openSlot(
  code: string,
  toolsSource: string,
  root: string,
): Promise<RunDir | undefined> {
  await ensurePrivateDir(root);
  const keyDir = join(root, await slotKey(toolsSource));
  await ensurePrivateDir(keyDir);
  const now = new Date();
  for (let n = 0; n < MAX_RUN_SLOTS; n++) {
    const dir = join(keyDir, String(n));
    await ensurePrivateDir(dir);
    const lock = await openLock(join(dir, ".lock"));
    if (!await lock.tryLock(true)) {
      lock.close();
      continue;
    }
    try {
      // Marks the key as in use, for pruning.
      await Deno.utime(keyDir, now, now);
      const files = await writeRunFiles(dir, code, toolsSource);
      return {
        ...files,
        reused: true,
        async [Symbol.asyncDispose]() {
          await Deno.remove(join(dir, "program.ts")).catch(() => {});
          lock.close();
          await pruneIdle(root, keyDir, Date.now());
        },
      };
    } catch (error) {
      lock.close();
      throw error;
    }
  }
  return undefined;
}

/** Opens (creating) a slot's lock file, refusing a symbolic link or another user's file. */
async function openLock(path: string): Promise<Deno.FsFile> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (info !== undefined) {
    const uid = Deno.uid();
    if (!info.isFile || (uid !== null && info.uid !== null && info.uid !== uid)) {
      throw new Error(`Unsafe run lock "${path}"`);
    }
  }
  return await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
}

/** The hex SHA-256 (first 32 digits) of everything a check depends on besides the program. */
async function slotKey(toolsSource: string): Promise<string> {
  const parts = [
    `toolscript-run-${LAYOUT_VERSION}`,
    Deno.version.deno,
    JSON.stringify(SANDBOX_COMPILER_OPTIONS),
    SANDBOX_GLOBALS_SOURCE,
    RELAY_PREAMBLE_SOURCE,
    ENTRY_SOURCE,
    toolsSource,
  ];
  const bytes = new TextEncoder().encode(parts.map((p) => `${p.length}:${p}`).join("\n"));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Removes and writes anew (never following a link) every file of a run in `dir`. */
async function writeRunFiles(dir: string, code: string, toolsSource: string): Promise<RunFiles> {
  const path = (name: string) => join(dir, name);
  const write = async (name: string, text: string) => {
    await Deno.remove(path(name)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await Deno.writeTextFile(path(name), text, { mode: 0o600, createNew: true });
  };
  await write("globals.ts", SANDBOX_GLOBALS_SOURCE);
  await write("preamble.ts", RELAY_PREAMBLE_SOURCE);
  await write("tools.ts", toolsSource);
  await write("program.ts", code);
  await write("main.ts", ENTRY_SOURCE);
  const all = [...FIXED_NAMES, "program.ts"].map(path);
  const importMap = sandboxImportMap({ tools: path("tools.ts"), all });
  await write("import_map.json", JSON.stringify(importMap, null, 2));
  await write("deno.json", JSON.stringify({ compilerOptions: SANDBOX_COMPILER_OPTIONS }, null, 2));
  return {
    dir,
    entry: path("main.ts"),
    importMap: path("import_map.json"),
    config: path("deno.json"),
  };
}

/** Removes key directories under `root` (but `current`) unused for {@link RUN_DIR_MAX_IDLE_MS}. */
async function pruneIdle(root: string, current: string, now: number): Promise<void> {
  try {
    for await (const entry of Deno.readDir(root)) {
      const dir = join(root, entry.name);
      if (!entry.isDirectory || dir === current) continue;
      const info = await Deno.lstat(dir).catch(() => undefined);
      const used = info?.mtime?.getTime();
      if (used === undefined || now - used < RUN_DIR_MAX_IDLE_MS) continue;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  } catch {
    // Pruning is housekeeping: a failure leaves directories for the next run.
  }
}
