/**
 * The change signal of the file store: a watch of its credentials directory. It only hastens
 * what the poll of `TokenStore.version` finds anyway, so a directory that does not exist yet or
 * a watch the system refuses (inotify limits) is no error: the poll alone then notices changes.
 */
import { basename } from "node:path";
import { decodeServerName } from "../../config/server_file_name.ts";

/**
 * Calls `onChange` with the server name whenever `<dir>/<name>.json` is written, renamed into
 * place or removed, until `signal` aborts; once with undefined when the watch cannot start.
 */
export function watchCredentialDir(
  dir: string,
  onChange: (server: string | undefined) => void,
  signal: AbortSignal,
): void {
  if (signal.aborted) return;
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch {
    onChange(undefined);
    return;
  }
  signal.addEventListener("abort", () => watcher.close(), { once: true });
  (async () => {
    try {
      for await (const event of watcher) {
        for (const path of event.paths) {
          const file = basename(path);
          if (!file.endsWith(".json")) continue;
          const name = decodeServerName(file.slice(0, -".json".length));
          if (name !== undefined) onChange(name);
        }
      }
    } catch {
      // The directory went away or the watch was closed: the poll carries on.
    }
  })();
}
