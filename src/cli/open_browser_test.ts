import assert from "node:assert/strict";
import { join } from "node:path";
import { openBrowser, openerCommand } from "./open_browser.ts";

const URL_WITH_QUERY = "https://as.example/authorize?client_id=a&state=b&scope=c%20d";

/** A temp dir holding `opener.sh` with `body`; removing the dir also ends a waiting opener. */
async function fakeOpener(body: string) {
  const dir = await Deno.makeTempDir({ prefix: "toolscript-opener-" });
  const script = join(dir, "opener.sh");
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nDIR=$(dirname "$0")\nprintf '%s' "$1" > "$DIR/url"\n${body}\n`,
    { mode: 0o755 },
  );
  return {
    dir,
    env: (vars: Record<string, string>) => (name: string) =>
      ({ DISPLAY: ":0", BROWSER: script, ...vars } as Record<string, string>)[name],
    async [Symbol.asyncDispose]() {
      await Deno.writeTextFile(join(dir, "release"), "").catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Waits (bounded) until `path` exists, then returns its text. */
async function readWhenWritten(path: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${path} was never written`);
}

Deno.test("openBrowser() takes an opener that keeps running as opened, without waiting for it", async () => {
  // Like `BROWSER=firefox` or a terminal browser: it runs until the user closes it (here: until
  // the spec releases it, at most 30 s), then exits with a failure nobody should wait for.
  await using opener = await fakeOpener(
    `i=0\nwhile [ -d "$DIR" ] && [ ! -e "$DIR/release" ] && [ $i -lt 600 ]; do\n` +
      `  sleep 0.05; i=$((i + 1))\ndone\nexit 7`,
  );
  const opened = await openBrowser(URL_WITH_QUERY, {
    os: "linux",
    env: opener.env({}),
    graceMs: 100,
  });
  assert.equal(opened, true);
  assert.equal(await readWhenWritten(join(opener.dir, "url")), URL_WITH_QUERY);
});

Deno.test("openBrowser() reports an opener that fails, and one that finishes", async () => {
  await using failing = await fakeOpener("exit 3");
  await using quick = await fakeOpener("exit 0");
  assert.equal(await openBrowser(URL_WITH_QUERY, { os: "linux", env: failing.env({}) }), false);
  assert.equal(await openBrowser(URL_WITH_QUERY, { os: "linux", env: quick.env({}) }), true);
  assert.equal(await readWhenWritten(join(quick.dir, "url")), URL_WITH_QUERY);
});

Deno.test("openBrowser() does nothing without a display or with a missing opener", async () => {
  await using opener = await fakeOpener("exit 0");
  const noDisplay = opener.env({ DISPLAY: "" });
  assert.equal(await openBrowser(URL_WITH_QUERY, { os: "linux", env: noDisplay }), false);
  const missing = opener.env({ BROWSER: join(opener.dir, "no-such-browser") });
  assert.equal(await openBrowser(URL_WITH_QUERY, { os: "linux", env: missing }), false);
  await assert.rejects(Deno.stat(join(opener.dir, "url")), Deno.errors.NotFound);
});

Deno.test("openBrowser() never hands a file: or custom-scheme URL to the opener", async () => {
  await using opener = await fakeOpener("exit 0");
  for (const url of ["file:///etc/passwd", "vscode://x/y", "javascript:alert(1)", "not a url"]) {
    assert.equal(await openBrowser(url, { os: "linux", env: opener.env({}) }), false);
  }
  await assert.rejects(Deno.stat(join(opener.dir, "url")), Deno.errors.NotFound);
});

Deno.test("openerCommand() passes the URL as one argument on every platform", () => {
  const env = (name: string) => name === "BROWSER" ? "lynx" : undefined;
  assert.deepEqual(openerCommand(URL_WITH_QUERY, "windows", env), [
    "rundll32",
    "url.dll,FileProtocolHandler",
    URL_WITH_QUERY,
  ]);
  assert.deepEqual(openerCommand(URL_WITH_QUERY, "darwin", env), ["open", URL_WITH_QUERY]);
  assert.deepEqual(openerCommand(URL_WITH_QUERY, "linux", env), ["lynx", URL_WITH_QUERY]);
  assert.deepEqual(openerCommand(URL_WITH_QUERY, "linux", () => undefined), [
    "xdg-open",
    URL_WITH_QUERY,
  ]);
});
