import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../_helpers.ts";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { spawnScript } from "./_child.ts";
import { growingDocument, SERVER_URL } from "./_store_writer.ts";

const WRITER = new URL("./_store_writer.ts", import.meta.url).pathname;

Deno.test("a process killed while saving leaves a whole earlier document behind", async () => {
  await using scratch = await makeScratchDir();
  const home = join(scratch.path, "home");
  const dir = join(home, "credentials");
  const store = new FileTokenStore({ dir });
  for (const killAfter of [10, 20, 30, 40, 50]) { // several rounds: more chances to kill mid-write
    {
      await using writer = spawnScript(WRITER, ["grow", dir, "200"]);
      await writer.waitForLine(new RegExp(`^saved ${killAfter}$`));
      writer.kill("SIGKILL");
      const status = await writer.status;
      assert.equal(status.signal, "SIGKILL", `the writer finished first:\n${writer.stderr()}`);
    }
    const loaded = await store.load("crash", SERVER_URL);
    assert.ok(loaded, "a document survives");
    const i = Number(loaded.tokens?.accessToken.replace("access-", ""));
    assert.ok(i >= killAfter && i <= 200, `saved ${i}`);
    assert.deepEqual({ ...loaded, updatedAt: i }, growingDocument(i));
  }

  assert.equal((await Deno.stat(home)).mode! & 0o777, 0o700);
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  for await (const entry of Deno.readDir(dir)) {
    assert.equal((await Deno.stat(join(dir, entry.name))).mode! & 0o777, 0o600, entry.name);
  }
  assert.deepEqual(await store.list(), ["crash"]);
  await store.save(growingDocument(201));
  assert.equal((await store.load("crash", SERVER_URL))?.tokens?.accessToken, "access-201");
});
