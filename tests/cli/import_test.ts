import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  type CliOptions,
  makeScratchDir,
  REPO_ROOT,
  runCli,
  type ScratchDir,
} from "../_helpers.ts";

const FIXTURES = join(REPO_ROOT, "tests", "fixtures", "import");

/** A user whose home is `<dir>/home` and who works in `<dir>/project`. */
async function userOf(
  dir: ScratchDir,
): Promise<{ home: string; cwd: string; options: CliOptions }> {
  const home = join(dir.path, "home");
  const cwd = join(dir.path, "project");
  await Deno.mkdir(home, { recursive: true });
  await Deno.mkdir(cwd, { recursive: true });
  return {
    home,
    cwd,
    options: {
      cwd,
      home: join(home, ".toolscript"),
      env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config") },
    },
  };
}

/** Copies a fixture to `to`, with `__CWD__` replaced by `cwd`. */
async function placeFixture(name: string, to: string, cwd = ""): Promise<void> {
  await Deno.mkdir(dirname(to), { recursive: true });
  const text = await Deno.readTextFile(join(FIXTURES, name));
  await Deno.writeTextFile(to, text.replaceAll("__CWD__", cwd));
}

/** Our config at `<home>/.config/toolscript/config.json`, already holding `servers`. */
async function ourConfig(home: string, servers: Record<string, unknown>): Promise<string> {
  const file = join(home, ".config", "toolscript", "config.json");
  await Deno.mkdir(dirname(file), { recursive: true });
  await Deno.writeTextFile(file, JSON.stringify({ mcpServers: servers }, null, 2) + "\n");
  return file;
}

const EXISTING_GITHUB = { type: "http", url: "https://github.example/mcp" };

function servers(file: string): Promise<Record<string, Record<string, unknown>>> {
  return Deno.readTextFile(file).then((text) => JSON.parse(text).mcpServers);
}

Deno.test("import claude-code reads local, project and user scopes, skips names we have, and never prints a value", async () => {
  await using dir = await makeScratchDir();
  const { home, cwd, options } = await userOf(dir);
  await placeFixture("claude_code_user.json", join(home, ".claude.json"), cwd);
  await placeFixture("claude_code_project.json", join(cwd, ".mcp.json"));
  const file = await ourConfig(home, { github: EXISTING_GITHUB });
  const result = await runCli(["import", "claude-code"], options);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  const user = join(home, ".claude.json");
  const project = join(cwd, ".mcp.json");
  assert.deepEqual(lines, [
    `Imported local-db (stdio) from ${user} projects[${JSON.stringify(cwd)}]`,
    `Imported sentry (http) from ${project}`,
    `Imported linear (sse) from ${project}`,
    `Imported memory (stdio) from ${project}`,
    `Imported api (http) from ${project}`,
    `Skipped github: already in ${file}`,
    `Skipped memory: already imported from ${project}`,
    `Imported 5 servers into ${file}`,
  ]);
  assert.ok(!result.stdout.includes("canary") && !result.stderr.includes("canary"));
  const after = await servers(file);
  assert.deepEqual(Object.keys(after), ["github", "local-db", "sentry", "linear", "memory", "api"]);
  assert.deepEqual(after.github, EXISTING_GITHUB);
  assert.deepEqual(after.sentry, { type: "http", url: "https://mcp.sentry.dev/mcp" });
  assert.deepEqual(after.memory.args, ["-y", "@modelcontextprotocol/server-memory@latest"]);
  assert.deepEqual(after.api, {
    type: "http",
    url: "${API_BASE_URL:-https://api.example.com}/mcp",
    headers: { "X-API-Key": "${API_KEY}" },
  });
  assert.equal((after["local-db"].env as Record<string, string>).DB_PASSWORD, "canary-secret-4d1f");
  assert.ok(!("elsewhere" in after));
  const listed = await runCli(["servers", "--json"], {
    ...options,
    env: { ...options.env, API_KEY: "k" },
  });
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(JSON.parse(listed.stdout).length, 6);
});

Deno.test("import claude-desktop reads the Linux location; an invalid name is skipped with the reason", async () => {
  await using dir = await makeScratchDir();
  const { home, options } = await userOf(dir);
  const source = join(home, ".config", "Claude", "claude_desktop_config.json");
  await placeFixture("claude_desktop_config.json", source);
  const file = await ourConfig(home, { filesystem: { command: "ls" } });
  const result = await runCli(["import", "claude-desktop"], options);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines[0], `Skipped filesystem: already in ${file}`);
  assert.equal(lines[1], `Imported brave-search (stdio) from ${source}`);
  assert.match(lines[2], /^Skipped "my files": mcpServers\["my files"\]: Invalid server name/);
  assert.equal(lines[3], `Imported 1 server into ${file}`);
  assert.ok(!result.stdout.includes("canary"));
  const after = await servers(file);
  assert.deepEqual(Object.keys(after), ["filesystem", "brave-search"]);
  assert.deepEqual(after.filesystem, { command: "ls" });
});

Deno.test("import claude-desktop --dry-run reads the macOS location, prints the same lines and writes nothing", async () => {
  await using dir = await makeScratchDir();
  const { home, options } = await userOf(dir);
  const source = join(
    home,
    "Library",
    "Application Support",
    "Claude",
    "claude_desktop_config.json",
  );
  await placeFixture("claude_desktop_config.json", source);
  const file = await ourConfig(home, { filesystem: { command: "ls" } });
  const before = await Deno.readTextFile(file);
  const dry = await runCli(["import", "claude-desktop", "--dry-run"], options);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(await Deno.readTextFile(file), before);
  const real = await runCli(["import", "claude-desktop"], options);
  assert.equal(real.code, 0, real.stderr);
  const dryLines = dry.stdout.trimEnd().split("\n");
  const realLines = real.stdout.trimEnd().split("\n");
  assert.deepEqual(dryLines.slice(0, -1), realLines.slice(0, -1));
  assert.equal(dryLines.at(-1), `Dry run: would import 1 server into ${file}; nothing written`);
  assert.match(dryLines[1], new RegExp(`^Imported brave-search \\(stdio\\) from .*Library`));
});

Deno.test("import --dry-run with no config of ours creates nothing", async () => {
  await using dir = await makeScratchDir();
  const { home, options } = await userOf(dir);
  await placeFixture("cursor_mcp.json", join(home, ".cursor", "mcp.json"));
  const dry = await runCli(["import", "cursor", "--dry-run"], options);
  assert.equal(dry.code, 0, dry.stderr);
  await assert.rejects(Deno.stat(join(home, ".config")), Deno.errors.NotFound);
});

Deno.test("import cursor maps ${env:VAR} and ${userHome}, infers http from url, and skips envFile", async () => {
  await using dir = await makeScratchDir();
  const { home, cwd, options } = await userOf(dir);
  const source = join(home, ".cursor", "mcp.json");
  await placeFixture("cursor_mcp.json", source);
  // The project's file comes first: its "notion" wins over the global one.
  await Deno.mkdir(join(cwd, ".cursor"));
  await Deno.writeTextFile(
    join(cwd, ".cursor", "mcp.json"),
    JSON.stringify({ mcpServers: { notion: { url: "https://notion.project.example/mcp" } } }),
  );
  const result = await runCli(["import", "cursor"], options);
  assert.equal(result.code, 0, result.stderr);
  const file = join(home, ".config", "toolscript", "config.json");
  const lines = result.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    `Imported notion (http) from ${join(cwd, ".cursor", "mcp.json")}`,
    `Imported puppeteer (stdio) from ${source}`,
    `Skipped notion: already imported from ${join(cwd, ".cursor", "mcp.json")}`,
  ]);
  assert.match(lines[3], /^Skipped with-env-file: .*envFile/);
  assert.equal(lines[4], `Imported 2 servers into ${file}`);
  const after = await servers(file);
  assert.deepEqual(after.notion, { type: "http", url: "https://notion.project.example/mcp" });
  assert.deepEqual(after.puppeteer.env, { PUPPETEER_HOME: `${home}/.cache/puppeteer` });
  // Imported again: every name exists now.
  const again = await runCli(["import", "cursor"], options);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^Skipped puppeteer: already in /m);
  assert.match(again.stdout, /^Nothing to import into /m);
});

Deno.test("import vscode reads servers, turns ${input:id} into ${ID} and ${env:VAR} into ${VAR}, and skips what it cannot expand", async () => {
  await using dir = await makeScratchDir();
  const { home, cwd, options } = await userOf(dir);
  const source = join(cwd, ".vscode", "mcp.json");
  await placeFixture("vscode_mcp.json", source);
  const file = await ourConfig(home, { gh: EXISTING_GITHUB });
  const result = await runCli(["import", "vscode"], options);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    `Imported perplexity (stdio) from ${source}`,
    `Imported fetch (stdio) from ${source}`,
    `Skipped gh: already in ${file}`,
  ]);
  assert.match(lines[3], /^Skipped picker: it uses "\$\{command:pickFile\}"/);
  assert.deepEqual(lines.slice(4), [
    "Note: set PERPLEXITY_KEY where the gateway runs (VS Code input perplexity-key)",
    `Imported 2 servers into ${file}`,
  ]);
  const after = await servers(file);
  assert.deepEqual(after.perplexity, {
    type: "stdio",
    command: "npx",
    args: ["-y", "server-perplexity-ask"],
    env: { PERPLEXITY_API_KEY: "${PERPLEXITY_KEY}" },
  });
  assert.equal(after.fetch.cwd, cwd);
});

Deno.test("import with none of the client's files, or an unknown client, exits 2", async () => {
  await using dir = await makeScratchDir();
  const { options } = await userOf(dir);
  const [missing, unknown] = await Promise.all([
    runCli(["import", "vscode"], options),
    runCli(["import", "emacs"], options),
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\.vscode/);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /claude-code/);
});
