import assert from "node:assert/strict";
import { join } from "node:path";
import { rejectsConfigError, scratchDir } from "./_testing.ts";
import { defaultConfigPaths, findConfigFile } from "./find_config.ts";

/** A layout with every kind of candidate: home, cwd, an XDG dir and two explicit files. */
async function layout(root: string) {
  const home = join(root, "home");
  const cwd = join(root, "project");
  const xdg = join(root, "xdg");
  await Deno.mkdir(join(home, ".config", "toolscript"), { recursive: true });
  await Deno.mkdir(join(xdg, "toolscript"), { recursive: true });
  await Deno.mkdir(cwd, { recursive: true });
  const files = {
    flag: join(root, "flag.json"),
    env: join(root, "env.json"),
    cwd: join(cwd, ".toolscript.json"),
    xdg: join(xdg, "toolscript", "config.json"),
    home: join(home, ".config", "toolscript", "config.json"),
  };
  for (const file of Object.values(files)) await Deno.writeTextFile(file, "{}");
  return { home, cwd, xdg, files };
}

Deno.test("findConfigFile() prefers --config, then $TOOLSCRIPT_CONFIG, ./.toolscript.json, XDG", async () => {
  await using dir = await scratchDir();
  const { home, cwd, xdg, files } = await layout(dir.path);
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const all = { TOOLSCRIPT_CONFIG: files.env, XDG_CONFIG_HOME: xdg };

  assert.deepEqual(
    await findConfigFile({ flag: files.flag, env: env(all), cwd, home }),
    { file: files.flag, source: "flag" },
  );
  assert.deepEqual(
    await findConfigFile({ env: env(all), cwd, home }),
    { file: files.env, source: "env" },
  );
  assert.deepEqual(
    await findConfigFile({ env: env({ XDG_CONFIG_HOME: xdg }), cwd, home }),
    { file: files.cwd, source: "cwd" },
  );
  await Deno.remove(files.cwd);
  assert.deepEqual(
    await findConfigFile({ env: env({ XDG_CONFIG_HOME: xdg }), cwd, home }),
    { file: files.xdg, source: "xdg" },
  );
  assert.deepEqual(
    await findConfigFile({ env: env({}), cwd, home }),
    { file: files.home, source: "xdg" },
    "without XDG_CONFIG_HOME, ~/.config is used",
  );
  assert.deepEqual(
    await findConfigFile({ env: env({ XDG_CONFIG_HOME: "relative/xdg" }), cwd, home }),
    { file: files.home, source: "xdg" },
    "a relative XDG_CONFIG_HOME is ignored",
  );
  await Deno.remove(files.home);
  assert.equal(await findConfigFile({ env: env({}), cwd, home }), undefined);
});

Deno.test("findConfigFile() resolves a relative --config against cwd and ~ against home", async () => {
  await using dir = await scratchDir();
  const { home, cwd } = await layout(dir.path);
  await Deno.writeTextFile(join(cwd, "mine.json"), "{}");
  await Deno.writeTextFile(join(home, "other.json"), "{}");
  const env = () => undefined;
  assert.deepEqual(await findConfigFile({ flag: "mine.json", env, cwd, home }), {
    file: join(cwd, "mine.json"),
    source: "flag",
  });
  assert.deepEqual(await findConfigFile({ flag: "~/other.json", env, cwd, home }), {
    file: join(home, "other.json"),
    source: "flag",
  });
});

Deno.test("findConfigFile() fails naming the file when --config or $TOOLSCRIPT_CONFIG does not exist", async () => {
  await using dir = await scratchDir();
  const { home, cwd } = await layout(dir.path);
  const missing = join(dir.path, "missing.json");

  const fromFlag = await rejectsConfigError(
    findConfigFile({ flag: missing, env: () => undefined, cwd, home }),
  );
  assert.equal(fromFlag.file, missing);
  assert.match(fromFlag.message, /--config/);

  const fromEnv = await rejectsConfigError(
    findConfigFile({ env: (n) => n === "TOOLSCRIPT_CONFIG" ? missing : undefined, cwd, home }),
  );
  assert.equal(fromEnv.file, missing);
  assert.match(fromEnv.message, /TOOLSCRIPT_CONFIG/);
});

Deno.test("findConfigFile() refuses a config path that is a directory", async () => {
  await using dir = await scratchDir();
  const { home, cwd } = await layout(dir.path);
  const error = await rejectsConfigError(
    findConfigFile({ flag: dir.path, env: () => undefined, cwd, home }),
  );
  assert.equal(error.file, dir.path);
});

Deno.test("defaultConfigPaths() lists ./.toolscript.json then the XDG file", () => {
  assert.deepEqual(defaultConfigPaths({ env: () => undefined, cwd: "/w", home: "/h" }), [
    { file: "/w/.toolscript.json", source: "cwd" },
    { file: "/h/.config/toolscript/config.json", source: "xdg" },
  ]);
});
