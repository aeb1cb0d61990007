import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../../../tests/_helpers.ts";
import { FileTokenStore } from "./file_token_store.ts";
import type { CredentialDocument, TokenStore } from "./token_store.ts";

const URL_A = "https://mcp.example/mcp";

function doc(server: string, accessToken: string): CredentialDocument {
  return { version: 1, server, serverUrl: URL_A, tokens: { accessToken }, updatedAt: 0 };
}

Deno.test("FileTokenStore.forCaller() keeps each caller's documents apart, under callers/<name>/", async () => {
  await using scratch = await makeScratchDir();
  const dir = join(scratch.path, "home", "credentials");
  const store: TokenStore = new FileTokenStore({ dir });
  const alice = store.forCaller("alice");
  const bob = store.forCaller("bob");
  await store.save(doc("github", "gateway-canary"));
  await alice.save(doc("github", "alice-canary"));
  assert.equal((await store.load("github", URL_A))?.tokens?.accessToken, "gateway-canary");
  assert.equal((await alice.load("github", URL_A))?.tokens?.accessToken, "alice-canary");
  assert.equal(await bob.load("github", URL_A), undefined);
  assert.deepEqual(await bob.list(), []);
  assert.equal(
    (await Deno.stat(join(dir, "callers", "alice", "github.json"))).isFile,
    true,
  );
  // A view of a view is a view of the same store, never nested.
  assert.equal(
    (await alice.forCaller("bob").forCaller("alice").load("github", URL_A))?.tokens?.accessToken,
    "alice-canary",
  );
  assert.equal(
    (await alice.forCaller(undefined).load("github", URL_A))?.tokens?.accessToken,
    "gateway-canary",
  );
  assert.equal(store.forCaller(undefined), store);
});

Deno.test("FileTokenStore.watch() names the server whose document another store object wrote", async () => {
  await using scratch = await makeScratchDir();
  const dir = join(scratch.path, "home", "credentials");
  const writer = new FileTokenStore({ dir });
  await writer.save(doc("first", "a")); // the directory exists before the watch starts
  const watching = new FileTokenStore({ dir });
  const controller = new AbortController();
  const seen = Promise.withResolvers<string>();
  const timeout = setTimeout(() => seen.reject(new Error("no change seen in 10 s")), 10_000);
  try {
    watching.watch((server) => {
      if (server === "github") seen.resolve(server);
    }, controller.signal);
    await writer.save(doc("github", "b"));
    assert.equal(await seen.promise, "github");
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
});

Deno.test("FileTokenStore.watch() of a directory not made yet says changes may be missed", () => {
  const store = new FileTokenStore({ dir: "/nonexistent-toolscript-dir/credentials" });
  const calls: (string | undefined)[] = [];
  const controller = new AbortController();
  store.watch((server) => calls.push(server), controller.signal);
  controller.abort();
  assert.deepEqual(calls, [undefined]);
});
