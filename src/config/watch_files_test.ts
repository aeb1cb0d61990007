import assert from "node:assert/strict";
import { join } from "node:path";
import { watchFiles } from "./watch_files.ts";

/** Watches `file`; `next()` resolves at the next (debounced) change call. */
function watching(file: string, signal?: AbortSignal) {
  let calls = 0;
  let wake: (() => void) | undefined;
  const stop = watchFiles([file], () => {
    calls++;
    wake?.();
  }, { debounceMs: 20, signal });
  return {
    stop,
    calls: () => calls,
    next(): Promise<void> {
      const { promise, resolve } = Promise.withResolvers<void>();
      wake = resolve;
      return promise;
    },
  };
}

Deno.test("watchFiles sees a file written in place and one renamed over it, and stops cleanly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "config.json");
    await Deno.writeTextFile(file, "{}");
    const watch = watching(file);
    let changed = watch.next();
    await Deno.writeTextFile(file, '{"a":1}');
    await changed;
    changed = watch.next();
    await Deno.writeTextFile(join(dir, "config.json.tmp"), '{"a":2}');
    await Deno.rename(join(dir, "config.json.tmp"), file);
    await changed;
    assert.ok(watch.calls() >= 2);
    watch.stop(); // the resource sanitizer fails the spec if a watcher stayed open
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchFiles ignores other files in the directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "config.json");
    const other = join(dir, "other.json");
    await Deno.writeTextFile(file, "{}");
    const controller = new AbortController();
    const config = watching(file, controller.signal);
    const others = watching(other, controller.signal);
    // The other file's watch settles first; the config's would have too, had it matched.
    const otherChanged = others.next();
    await Deno.writeTextFile(other, "{}");
    await otherChanged;
    const configChanged = config.next();
    await Deno.writeTextFile(file, '{"a":1}');
    await configChanged;
    assert.equal(config.calls(), 1, "only the config's own change");
    controller.abort();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
