/**
 * Issue 12 item 12: links in the credential store. A hard-linked `credentials/<server>.lock`
 * used to be truncated through the link; a symlinked `credentials/` directory was followed
 * and its target chmodded. Now each is refused with an error naming the path, and the
 * target is left as it was.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import type { CredentialDocument } from "../../src/auth/store/token_store.ts";
import { InsecureTokenFileError } from "../../src/errors.ts";
import { makeScratchDir, runCli, writeConfig } from "../_helpers.ts";

const URL_A = "https://mcp.example/mcp";
const VICTIM_TEXT = "precious bytes that must survive\n";

function doc(): CredentialDocument {
  return {
    version: 1,
    server: "demo",
    serverUrl: URL_A,
    tokens: { accessToken: "canary-access-token-91b2", expiresAt: Date.now() + 60_000 },
    updatedAt: 0,
  };
}

function modeOf(info: Deno.FileInfo): number {
  return (info.mode ?? 0) & 0o777;
}

function refusing(path: string) {
  return (error: unknown) =>
    error instanceof InsecureTokenFileError && error.code === "insecure_file" &&
    error.file === path && error.message.includes(path);
}

Deno.test("a lock file hard-linked to another file is refused and that file is left untouched", async () => {
  await using scratch = await makeScratchDir();
  const dir = join(scratch.path, "home", "credentials");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const victim = join(scratch.path, "victim.txt");
  await Deno.writeTextFile(victim, VICTIM_TEXT, { mode: 0o644 });
  const lock = join(dir, "demo.lock");
  await Deno.link(victim, lock);
  const store = new FileTokenStore({ dir });
  let ran = false;
  await assert.rejects(
    store.transaction("demo", () => Promise.resolve(ran = true)),
    refusing(lock),
  );
  await assert.rejects(store.save(doc()), refusing(lock));
  assert.equal(ran, false);
  assert.equal(await Deno.readTextFile(victim), VICTIM_TEXT);
  assert.equal(modeOf(await Deno.stat(victim)), 0o644);
});

Deno.test("toolscript auth refuses a hard-linked lock file and leaves its target intact", async () => {
  await using scratch = await makeScratchDir();
  const home = join(scratch.path, "home");
  const dir = join(home, "credentials");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const victim = join(scratch.path, "victim.txt");
  await Deno.writeTextFile(victim, VICTIM_TEXT);
  await Deno.link(victim, join(dir, "demo.lock"));
  const config = await writeConfig(scratch, {
    mcpServers: { demo: { type: "http", url: "http://127.0.0.1:1/mcp", auth: { type: "oauth" } } },
  });
  const result = await runCli(["auth", "demo", "--no-browser", "--config", config], { home });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /demo\.lock.*hard links/);
  assert.equal(await Deno.readTextFile(victim), VICTIM_TEXT);
});

Deno.test("a credential file with a second hard link is refused", async () => {
  await using scratch = await makeScratchDir();
  const dir = join(scratch.path, "home", "credentials");
  const store = new FileTokenStore({ dir });
  await store.save(doc());
  const file = join(dir, "demo.json");
  await Deno.link(file, join(scratch.path, "copy.json"));
  await assert.rejects(store.load("demo", URL_A), refusing(file));
});

for (const which of ["credentials", "home"] as const) {
  Deno.test(`a symlinked ${which} directory is refused and its target's mode is unchanged`, async () => {
    await using scratch = await makeScratchDir();
    const target = join(scratch.path, "elsewhere");
    await Deno.mkdir(target, { mode: 0o755 });
    await Deno.chmod(target, 0o755);
    const home = join(scratch.path, "home");
    let link: string;
    if (which === "home") {
      link = home;
    } else {
      await Deno.mkdir(home, { mode: 0o700 });
      link = join(home, "credentials");
    }
    await Deno.symlink(target, link);
    const store = new FileTokenStore({ dir: join(home, "credentials") });
    await assert.rejects(store.save(doc()), refusing(link));
    await assert.rejects(store.load("demo", URL_A), refusing(link));
    await assert.rejects(store.list(), refusing(link));
    assert.equal(modeOf(await Deno.stat(target)), 0o755);
    const entries = [];
    for await (const entry of Deno.readDir(target)) entries.push(entry.name);
    assert.deepEqual(entries, [], "nothing written through the link");
  });
}

Deno.test("real directories and single-link files still work", async () => {
  await using scratch = await makeScratchDir();
  const dir = join(scratch.path, "home", "credentials");
  const store = new FileTokenStore({ dir });
  await store.save(doc());
  await store.transaction("demo", () => Promise.resolve());
  assert.equal((await store.load("demo", URL_A))?.tokens?.accessToken, doc().tokens?.accessToken);
  assert.equal((await Deno.lstat(join(dir, "demo.lock"))).nlink, 1);
  assert.deepEqual(await store.list(), ["demo"]);
});
