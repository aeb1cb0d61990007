import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../_helpers.ts";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { spawnScript } from "./_child.ts";
import { SERVER_URL } from "./_store_writer.ts";

const WRITER = new URL("./_store_writer.ts", import.meta.url).pathname;

Deno.test("two processes incrementing in store transactions never lose an update", async () => {
  await using scratch = await makeScratchDir();
  const dir = join(scratch.path, "home", "credentials");
  await using a = spawnScript(WRITER, ["increment", dir, "50"]);
  await using b = spawnScript(WRITER, ["increment", dir, "50"]);
  await Promise.all([a.waitForLine(/^ready$/), b.waitForLine(/^ready$/)]);
  await Promise.all([a.send("go"), b.send("go")]);
  await Promise.all([a.waitForLine(/^done$/), b.waitForLine(/^done$/)]);
  for (const child of [a, b]) {
    assert.equal((await child.status).code, 0, child.stderr());
  }
  const store = new FileTokenStore({ dir });
  assert.equal((await store.load("counter", SERVER_URL))?.tokens?.accessToken, "100");
});
