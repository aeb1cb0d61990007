import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../../../tests/_helpers.ts";
import { InsecureTokenFileError, UnreadableTokenFileError } from "../../errors.ts";
import { Logger } from "../../log.ts";
import { FileTokenStore } from "./file_token_store.ts";
import type { CredentialDocument, TokenTransaction } from "./token_store.ts";

const URL_A = "https://mcp.example/mcp";

function doc(server: string, overrides: Partial<CredentialDocument> = {}): CredentialDocument {
  return {
    version: 1,
    server,
    serverUrl: URL_A,
    issuer: "https://auth.example",
    client: { clientId: "client-1", registration: "dynamic", redirectUris: ["http://x/cb"] },
    tokens: { accessToken: "access-1", refreshToken: "refresh-1", expiresAt: 1_000_000 },
    updatedAt: 0,
    ...overrides,
  };
}

function mode(info: Deno.FileInfo): number {
  return (info.mode ?? 0) & 0o777;
}

/** A store in `<scratch>/home/credentials`, with a logger that records lines. */
function storeIn(scratch: string, now = () => 42) {
  const lines: string[] = [];
  const home = join(scratch, "home");
  const dir = join(home, "credentials");
  const store = new FileTokenStore({
    dir,
    now,
    logger: new Logger({ write: (l) => lines.push(l) }),
  });
  return { store, home, dir, lines };
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("FileTokenStore round-trips a document and stamps updatedAt with its clock", async () => {
  await using scratch = await makeScratchDir();
  const { store } = storeIn(scratch.path, () => 1234);
  await store.save(doc("github"));
  assert.deepEqual(await store.load("github", URL_A), { ...doc("github"), updatedAt: 1234 });
  assert.deepEqual(await store.list(), ["github"]);
});

Deno.test("FileTokenStore reads nothing and creates nothing before the first save", async () => {
  await using scratch = await makeScratchDir();
  const { store, home } = storeIn(scratch.path);
  assert.equal(await store.load("github", URL_A), undefined);
  assert.deepEqual(await store.list(), []);
  assert.equal(await store.version("github"), undefined);
  assert.equal(await store.delete("github"), false);
  await assert.rejects(Deno.stat(home), Deno.errors.NotFound);
});

Deno.test("FileTokenStore creates its directories 0700 and its files 0600", async () => {
  await using scratch = await makeScratchDir();
  const { store, home, dir } = storeIn(scratch.path);
  await store.save(doc("github"));
  assert.equal(mode(await Deno.stat(home)), 0o700);
  assert.equal(mode(await Deno.stat(dir)), 0o700);
  assert.equal(mode(await Deno.stat(join(dir, "github.json"))), 0o600);
  assert.equal(mode(await Deno.stat(join(dir, "github.lock"))), 0o600);
});

Deno.test("FileTokenStore tightens wider directories with a warning naming them", async () => {
  await using scratch = await makeScratchDir();
  const { store, home, dir, lines } = storeIn(scratch.path);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.chmod(home, 0o755);
  await Deno.chmod(dir, 0o777);
  await store.save(doc("github"));
  assert.equal(mode(await Deno.stat(home)), 0o700);
  assert.equal(mode(await Deno.stat(dir)), 0o700);
  assert.ok(lines.some((l) => l.includes("warn") && l.includes(`"${home}"`)), lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("warn") && l.includes(`"${dir}"`)), lines.join("\n"));
});

Deno.test("FileTokenStore.load() tightens a loose token file and warns naming it", async () => {
  await using scratch = await makeScratchDir();
  const { store, dir, lines } = storeIn(scratch.path);
  await store.save(doc("github"));
  const file = join(dir, "github.json");
  await Deno.chmod(file, 0o644);
  assert.equal((await store.load("github", URL_A))?.tokens?.accessToken, "access-1");
  assert.equal(mode(await Deno.stat(file)), 0o600);
  const warnings = lines.filter((l) => l.includes(" warn "));
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].includes(`"${file}"`), warnings[0]);
  assert.ok(!warnings[0].includes("access-1"));
});

Deno.test("FileTokenStore.load() refuses a token file that is a symbolic link", async () => {
  await using scratch = await makeScratchDir();
  const { store, dir } = storeIn(scratch.path);
  await store.save(doc("other"));
  await Deno.symlink(join(dir, "other.json"), join(dir, "github.json"));
  const error = await store.load("github", URL_A).catch((e) => e);
  assert.ok(error instanceof InsecureTokenFileError);
  assert.equal(error.code, "insecure_file");
  assert.equal(error.file, join(dir, "github.json"));
});

Deno.test("FileTokenStore.load() ignores credentials saved for a different server URL", async () => {
  await using scratch = await makeScratchDir();
  const { store } = storeIn(scratch.path);
  await store.save(doc("github"));
  assert.equal(await store.load("github", "https://other.example/mcp"), undefined);
  assert.equal(await store.load("github", "https://mcp.example/mcp/"), undefined);
  assert.ok(await store.load("github", "HTTPS://MCP.EXAMPLE:443/mcp"), "same URL, other spelling");
});

Deno.test("FileTokenStore.load() reports an unparseable file by name, never its content", async () => {
  await using scratch = await makeScratchDir();
  const { store, dir } = storeIn(scratch.path);
  await store.save(doc("github"));
  const file = join(dir, "github.json");
  const canary = "canary-5f1e2d";
  for (const text of [`{"version":1,"tokens":"${canary}`, `"${canary}"`, `\xff${canary}`]) {
    await Deno.writeTextFile(file, text);
    const error = await store.load("github", URL_A).catch((e) => e);
    assert.ok(error instanceof UnreadableTokenFileError, String(error));
    assert.ok(!(error instanceof InsecureTokenFileError), "corrupt is not insecure");
    assert.equal(error.code, "not_authenticated", "a new login replaces it: exit 3");
    assert.equal(error.file, file);
    assert.equal(error.server, "github");
    assert.ok(error.message.includes(file));
    assert.equal(error.fix, "toolscript auth github");
    const everything = `${error.stack} ${String(error.cause)} ${JSON.stringify(error)}`;
    assert.ok(!everything.includes(canary), everything);
  }
});

Deno.test("FileTokenStore.load() refuses a document of an unknown version", async () => {
  await using scratch = await makeScratchDir();
  const { store, dir } = storeIn(scratch.path);
  await store.save(doc("github"));
  const file = join(dir, "github.json");
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, text.replace(`"version": 1`, `"version": 2`));
  const error = await store.load("github", URL_A).catch((e) => e);
  assert.ok(error instanceof UnreadableTokenFileError);
  assert.ok(!error.message.includes("access-1"));
});

Deno.test("FileTokenStore keeps every server name inside its directory, reversibly", async () => {
  await using scratch = await makeScratchDir();
  const { store, home, dir } = storeIn(scratch.path);
  const names = ["a/b", "..", ".", "../escape", "ünïcode-✓", "GitHub", "github", "a%2Fb", "con"];
  for (const name of names) await store.save(doc(name, { issuer: name }));
  for (const name of names) assert.equal((await store.load(name, URL_A))?.issuer, name);
  assert.deepEqual(await store.list(), [...names].sort());
  assert.deepEqual(await entries(home), ["credentials"]);
  assert.deepEqual(await entries(scratch.path), ["home"]);
  const files = (await entries(dir)).filter((n) => n.endsWith(".json"));
  assert.equal(files.length, names.length);
  assert.equal(new Set(files.map((f) => f.toLowerCase())).size, names.length, "case-insensitive");
  for (const file of files) assert.ok(!file.startsWith("."), file);
});

Deno.test("FileTokenStore rejects an empty or malformed server name", async () => {
  await using scratch = await makeScratchDir();
  const { store } = storeIn(scratch.path);
  await assert.rejects(store.save(doc("")), RangeError);
  await assert.rejects(store.load("\uD800", URL_A), RangeError);
});

Deno.test("FileTokenStore ignores leftover temp files and foreign files", async () => {
  await using scratch = await makeScratchDir();
  const { store, dir } = storeIn(scratch.path);
  await store.save(doc("github"));
  await Deno.writeTextFile(join(dir, ".0123.tmp"), "{half a docu", { mode: 0o600 });
  await Deno.writeTextFile(join(dir, "Notes.json"), "{}", { mode: 0o600 });
  assert.deepEqual(await store.list(), ["github"]);
  assert.ok(await store.load("github", URL_A));
});

Deno.test("FileTokenStore.save() removes its temp file when the write fails", async () => {
  await using scratch = await makeScratchDir();
  const { store, dir } = storeIn(scratch.path);
  await store.save(doc("ok"));
  await Deno.mkdir(join(dir, "github.json")); // rename over a directory fails
  await assert.rejects(store.save(doc("github")));
  assert.deepEqual(await entries(dir), ["github.json", "github.lock", "ok.json", "ok.lock"]);
});

Deno.test("FileTokenStore.delete() removes the document once", async () => {
  await using scratch = await makeScratchDir();
  const { store } = storeIn(scratch.path);
  await store.save(doc("github"));
  assert.equal(await store.delete("github"), true);
  assert.equal(await store.delete("github"), false);
  assert.equal(await store.load("github", URL_A), undefined);
  assert.deepEqual(await store.list(), []);
});

Deno.test("FileTokenStore.version() changes with every save and is undefined when absent", async () => {
  await using scratch = await makeScratchDir();
  let clock = 0;
  const { store } = storeIn(scratch.path, () => clock);
  assert.equal(await store.version("github"), undefined);
  await store.save(doc("github"));
  const first = await store.version("github");
  assert.equal(await store.version("github"), first);
  await store.save(doc("github", { tokens: { accessToken: "access-2" } }));
  const second = await store.version("github");
  assert.notEqual(second, first);
  clock = 1;
  await store.save(doc("github", { tokens: { accessToken: "access-2" } }));
  assert.notEqual(await store.version("github"), second);
});

Deno.test("FileTokenStore.transaction() serializes concurrent callers in one process", async () => {
  await using scratch = await makeScratchDir();
  const { store } = storeIn(scratch.path);
  await store.save(doc("github", { tokens: { accessToken: "0" } }));
  const increment = () =>
    store.transaction("github", async (tx) => {
      const current = await tx.load(URL_A);
      const n = Number(current?.tokens?.accessToken);
      await tx.save(doc("github", { tokens: { accessToken: String(n + 1) } }));
    });
  await Promise.all(Array.from({ length: 20 }, increment));
  assert.equal((await store.load("github", URL_A))?.tokens?.accessToken, "20");
});

Deno.test("FileTokenStore.transaction() writes through its tx, for its server only, while open", async () => {
  await using scratch = await makeScratchDir();
  const { store } = storeIn(scratch.path);
  let kept: TokenTransaction | undefined;
  const result = await store.transaction("github", async (tx) => {
    kept = tx;
    await tx.save(doc("github"));
    assert.throws(() => tx.save(doc("other")), RangeError);
    return await tx.delete();
  });
  assert.equal(result, true);
  assert.throws(() => kept!.save(doc("github")), /has ended/);
  assert.deepEqual(await store.list(), []);
});

Deno.test("FileTokenStore.transaction() rejects with the signal's reason while another holds the lock", async () => {
  await using scratch = await makeScratchDir();
  const { store } = storeIn(scratch.path);
  const entered = Promise.withResolvers<void>();
  const leave = Promise.withResolvers<void>();
  const holder = store.transaction("github", () => {
    entered.resolve();
    return leave.promise;
  });
  await entered.promise;
  const controller = new AbortController();
  const waiter = store.transaction("github", () => Promise.resolve("ran"), controller.signal);
  const reason = new Error("user gave up");
  controller.abort(reason);
  await assert.rejects(waiter, (error) => error === reason);
  leave.resolve();
  await holder;
  assert.equal(await store.transaction("github", () => Promise.resolve("next")), "next");
});
