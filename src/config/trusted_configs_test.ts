import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, InsecureTokenFileError } from "../errors.ts";
import { scratchDir } from "./_testing.ts";
import {
  checkConfigTrusted,
  configDigest,
  trustCommand,
  trustConfig,
  UntrustedConfigError,
} from "./trusted_configs.ts";

const TEXT = '{"mcpServers": {}}';

async function setup(dir: { path: string }) {
  const file = join(dir.path, ".toolscript.json");
  await Deno.writeTextFile(file, TEXT);
  return { file, home: join(dir.path, "home") };
}

Deno.test("checkConfigTrusted() refuses a config never trusted, with toolscript trust as the fix", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  try {
    await checkConfigTrusted(file, TEXT, { home });
    assert.fail("expected a refusal");
  } catch (error) {
    assert.ok(error instanceof UntrustedConfigError);
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, "config");
    assert.equal(error.reason, "untrusted");
    assert.equal(error.file, file);
    assert.equal(error.fix, `toolscript trust ${file}`);
  }
});

Deno.test("trustConfig() records the SHA-256 in a 0600 trusted.json in a 0700 home, keyed by path", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  const record = await trustConfig(file, TEXT, { home, now: () => 1234 });
  assert.deepEqual(record, { file, sha256: configDigest(TEXT), trustedAt: 1234 });
  await checkConfigTrusted(file, TEXT, { home });
  assert.equal((await Deno.stat(home)).mode! & 0o777, 0o700);
  const trustFile = join(home, "trusted.json");
  assert.equal((await Deno.stat(trustFile)).mode! & 0o777, 0o600);
  const doc = JSON.parse(await Deno.readTextFile(trustFile));
  assert.deepEqual(doc, {
    version: 1,
    configs: { [file]: { sha256: record.sha256, trustedAt: 1234 } },
  });
  assert.deepEqual([...Deno.readDirSync(home)].map((e) => e.name), ["trusted.json"]);
});

Deno.test("checkConfigTrusted() refuses a trusted config whose text changed", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  await trustConfig(file, TEXT, { home });
  await assert.rejects(
    checkConfigTrusted(file, TEXT + " ", { home }),
    (error: unknown) => error instanceof UntrustedConfigError && error.reason === "changed",
  );
});

Deno.test("trustConfig() keeps the other configs' entries", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  await Deno.mkdir(join(dir.path, "b"));
  const other = join(dir.path, "b", ".toolscript.json");
  await Deno.writeTextFile(other, TEXT);
  await trustConfig(file, TEXT, { home });
  await trustConfig(other, TEXT, { home });
  await checkConfigTrusted(file, TEXT, { home });
  await checkConfigTrusted(other, TEXT, { home });
});

Deno.test("a .toolscript.json linking to a trusted config elsewhere does not borrow its trust", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  await trustConfig(file, TEXT, { home });
  await Deno.mkdir(join(dir.path, "clone"));
  const link = join(dir.path, "clone", ".toolscript.json");
  await Deno.symlink(file, link);
  await assert.rejects(checkConfigTrusted(link, TEXT, { home }), UntrustedConfigError);
});

Deno.test("a trusted config is found again through a symlinked directory", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  await trustConfig(file, TEXT, { home });
  await Deno.symlink(dir.path, join(home, "alias"));
  await checkConfigTrusted(join(home, "alias", ".toolscript.json"), TEXT, { home });
});

Deno.test("checkConfigTrusted() refuses a trust file others can write, or a symlinked one", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  await trustConfig(file, TEXT, { home });
  const trustFile = join(home, "trusted.json");
  await Deno.chmod(trustFile, 0o622);
  await assert.rejects(checkConfigTrusted(file, TEXT, { home }), InsecureTokenFileError);
  await Deno.chmod(trustFile, 0o600);
  await Deno.rename(trustFile, join(dir.path, "elsewhere.json"));
  await Deno.symlink(join(dir.path, "elsewhere.json"), trustFile);
  await assert.rejects(checkConfigTrusted(file, TEXT, { home }), InsecureTokenFileError);
});

Deno.test("an unreadable trust file is a config error with rm as the fix, and trusts nothing", async () => {
  await using dir = await scratchDir();
  const { file, home } = await setup(dir);
  await Deno.mkdir(home, { mode: 0o700 });
  await Deno.writeTextFile(join(home, "trusted.json"), "{not json", { mode: 0o600 });
  const attempts = [
    () => checkConfigTrusted(file, TEXT, { home }),
    () => trustConfig(file, TEXT, { home }),
  ];
  for (const attempt of attempts) {
    await assert.rejects(attempt(), (error: unknown) => {
      assert.ok(error instanceof ConfigError && !(error instanceof UntrustedConfigError));
      assert.equal(error.fix, `rm ${join(home, "trusted.json")}`);
      return true;
    });
  }
});

Deno.test("trustConfig() refuses a symlinked $TOOLSCRIPT_HOME", async () => {
  await using dir = await scratchDir();
  const { file } = await setup(dir);
  await Deno.mkdir(join(dir.path, "real"), { mode: 0o755 });
  const home = join(dir.path, "home-link");
  await Deno.symlink(join(dir.path, "real"), home);
  await assert.rejects(trustConfig(file, TEXT, { home }), InsecureTokenFileError);
  assert.equal((await Deno.stat(join(dir.path, "real"))).mode! & 0o777, 0o755);
});

Deno.test("trustCommand() quotes a path the shell would split", () => {
  assert.equal(trustCommand("/w/.toolscript.json"), "toolscript trust /w/.toolscript.json");
  assert.equal(trustCommand("/my repo/it's.json"), `toolscript trust '/my repo/it'\\''s.json'`);
});
