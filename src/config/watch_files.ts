/**
 * Notices saved changes of a few named files (a config file, the trust file), however the
 * editor saves: written in place, or written beside and renamed over the old one (vim, VS
 * Code). It watches each file's directory, not the file, so a rename that replaces the file
 * is seen, and it settles a burst of events into one call.
 */
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "../log.ts";

/** Options of {@link watchFiles}. */
export interface WatchFilesOptions {
  /** Quiet time after the last event before `onChange` is called; default 100 ms. */
  debounceMs?: number;
  /** Receives a warning when a directory cannot be watched; default silent. */
  logger?: Logger;
  /** Stops watching. */
  signal?: AbortSignal;
  /** Opens a watcher on a directory; default `Deno.watchFs(dir, { recursive: false })`. */
  watch?: (dir: string) => Deno.FsWatcher;
}

/**
 * Calls `onChange` (debounced) whenever an event in the directory of one of `files` names one
 * of them: created, modified, removed or renamed to or from. It does not read the files: the
 * caller compares contents, so an event without a change (a touch) is for it to ignore.
 * Returns the function that stops watching (as does aborting `signal`).
 */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  options: WatchFilesOptions = {},
): () => void {
  const debounceMs = options.debounceMs ?? 100;
  const open = options.watch ?? ((dir: string) => Deno.watchFs(dir, { recursive: false }));
  const byDir = new Map<string, Set<string>>();
  for (const file of files) {
    const path = resolve(file);
    const names = byDir.get(dirname(path)) ?? new Set<string>();
    names.add(basename(path));
    byDir.set(dirname(path), names);
  }
  const watchers: Deno.FsWatcher[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  function settle(): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) onChange();
    }, debounceMs);
  }

  async function follow(dir: string, names: Set<string>): Promise<void> {
    let watcher: Deno.FsWatcher;
    try {
      watcher = open(dir);
    } catch (error) {
      options.logger?.warn(`cannot watch directory ${JSON.stringify(dir)} for changes`, {
        error: String(error),
      });
      return;
    }
    watchers.push(watcher);
    try {
      for await (const event of watcher) {
        if (event.paths.some((path) => names.has(basename(path)))) settle();
      }
    } catch (error) {
      if (!stopped) {
        options.logger?.warn(`stopped watching directory ${JSON.stringify(dir)}`, {
          error: String(error),
        });
      }
    }
  }

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    for (const watcher of watchers) {
      try {
        watcher.close();
      } catch { /* already closed */ }
    }
    options.signal?.removeEventListener("abort", stop);
  }

  if (options.signal?.aborted) return () => {};
  options.signal?.addEventListener("abort", stop, { once: true });
  for (const [dir, names] of byDir) void follow(dir, names);
  return stop;
}
