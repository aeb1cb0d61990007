import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliOptions, makeScratchDir, runCli, type ScratchDir } from "../_helpers.ts";

/** CLI options for a user whose home, XDG config and toolscript home are all in `dir`. */
function userOf(dir: ScratchDir, extra: CliOptions = {}): CliOptions {
  return {
    cwd: dir.path,
    home: join(dir.path, ".toolscript"),
    ...extra,
    env: { HOME: dir.path, XDG_CONFIG_HOME: join(dir.path, "xdg"), ...extra.env },
  };
}

/** A config with other content an edit must keep: gateway block, comments, a disabled entry. */
const EXISTING = {
  _comment: "team config, keep this note",
  gateway: { port: 4444, host: "127.0.0.1" },
  mcpServers: {
    zeta: { command: "node", args: ["z.js"], enabled: false, _note: "disabled for now" },
    alpha: { type: "http", url: "https://alpha.example/mcp", timeout: 10 },
  },
};

async function writeExisting(dir: ScratchDir, name = "team.json"): Promise<string> {
  const file = join(dir.path, name);
  // Deliberately not our formatting: 4-space indent, no final newline.
  await Deno.writeTextFile(file, JSON.stringify(EXISTING, null, 4));
  return file;
}

Deno.test("add writes a stdio server after the existing ones, keeping every other key, and servers lists it", async () => {
  await using dir = await makeScratchDir();
  const file = await writeExisting(dir);
  const added = await runCli(
    [
      "add",
      "fs",
      "--config",
      file,
      "--env",
      "ROOT=/tmp",
      "--env",
      "TOKEN=${FS_TOKEN}",
      "--",
      "npx",
      "-y",
      "@modelcontextprotocol/server-filesystem",
      "--flag-for-the-server",
      "/tmp",
    ],
    userOf(dir),
  );
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout, `Added fs to ${file}\n`);
  assert.match(added.stderr, /FS_TOKEN/); // warned: unset here
  const expected = {
    ...EXISTING,
    mcpServers: {
      ...EXISTING.mcpServers,
      fs: {
        type: "stdio",
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-filesystem", "--flag-for-the-server", "/tmp"],
        env: { ROOT: "/tmp", TOKEN: "${FS_TOKEN}" },
      },
    },
  };
  const text = await Deno.readTextFile(file);
  assert.equal(text, JSON.stringify(expected, null, 2) + "\n");
  const servers = await runCli(
    ["servers", "--json", "--config", file],
    userOf(dir, { env: { FS_TOKEN: "t" } }),
  );
  assert.equal(servers.code, 0, servers.stderr);
  const rows = JSON.parse(servers.stdout) as { name: string; transport: string }[];
  assert.deepEqual(rows.map((r) => [r.name, r.transport]), [
    ["zeta", "stdio"],
    ["alpha", "http"],
    ["fs", "stdio"],
  ]);
});

Deno.test("add writes http and sse servers with headers, ${VAR} kept literal in the file", async () => {
  await using dir = await makeScratchDir();
  const file = await writeExisting(dir);
  const http = await runCli([
    "add",
    "docs",
    "https://docs.example/mcp",
    "--header",
    "Authorization: Bearer ${DOCS_TOKEN}",
    "--header",
    "X-Team:core",
    "--config",
    file,
  ], userOf(dir, { env: { DOCS_TOKEN: "docs-canary-7f3a" } }));
  assert.equal(http.code, 0, http.stderr);
  const sse = await runCli(
    ["add", "legacy", "https://legacy.example/sse", "--transport", "sse", "--config", file],
    userOf(dir),
  );
  assert.equal(sse.code, 0, sse.stderr);
  const doc = JSON.parse(await Deno.readTextFile(file));
  assert.deepEqual(doc.mcpServers.docs, {
    type: "http",
    url: "https://docs.example/mcp",
    headers: { Authorization: "Bearer ${DOCS_TOKEN}", "X-Team": "core" },
  });
  assert.deepEqual(doc.mcpServers.legacy, { type: "sse", url: "https://legacy.example/sse" });
  const text = await Deno.readTextFile(file);
  assert.ok(!text.includes("docs-canary-7f3a"));
  assert.ok(!http.stdout.includes("docs-canary-7f3a") && !http.stderr.includes("docs-canary"));
  const servers = await runCli(
    ["servers", "--config", file],
    userOf(dir, { env: { DOCS_TOKEN: "docs-canary-7f3a" } }),
  );
  assert.equal(servers.code, 0, servers.stderr);
  assert.match(servers.stdout, /^docs\thttp\t/m);
  assert.match(servers.stdout, /^legacy\tsse\t/m);
});

Deno.test("refused edits exit 2 and leave the file byte for byte as it was", async () => {
  await using dir = await makeScratchDir();
  const file = await writeExisting(dir);
  const before = await Deno.readTextFile(file);
  const attempts = [
    ["add", "alpha", "https://other.example/mcp"], // exists
    ["add", "bad name", "https://other.example/mcp"], // invalid name
    ["add", "a__b", "https://other.example/mcp"], // the prefix separator
    ["add", "__proto__", "https://other.example/mcp"],
    ["add", "web", "not a url"],
    ["add", "web", "http://insecure.example/mcp"], // plain http off loopback
    ["add", "web", "https://web.example/mcp", "--header", "Bearer-canary-2c9d"], // no colon
    ["add", "web", "https://web.example/mcp", "--header", "X-Bad\nName: v"],
    ["add", "web", "--env", "NOEQUALS", "--", "node", "s.js"],
    ["add", "web", "https://web.example/mcp", "--env", "A=b"], // env on http
    ["add", "web", "--header", "A: b", "--", "node"], // header on stdio
    ["add", "web", "https://web.example/mcp", "--transport", "stdio"],
    ["add", "web", "--transport", "ws", "https://web.example/mcp"],
    ["add", "web", "--"], // no command
    ["remove", "nope"],
  ];
  const results = await Promise.all(
    // --config first: everything after -- belongs to the command.
    attempts.map(([command, ...rest]) => runCli([command, "--config", file, ...rest], userOf(dir))),
  );
  for (const [i, result] of results.entries()) {
    assert.equal(result.code, 2, `${JSON.stringify(attempts[i])}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^error: /m);
  }
  assert.ok(!results[6].stderr.includes("canary"), "a header value is never echoed");
  assert.match(results[0].stderr, /^fix: toolscript remove alpha/m);
  assert.equal(await Deno.readTextFile(file), before);
  await assert.rejects(Deno.stat(join(dir.path, "xdg")), Deno.errors.NotFound);
  const leftovers = [...Deno.readDirSync(dir.path)].map((e) => e.name).filter((n) =>
    n.endsWith(".tmp")
  );
  assert.deepEqual(leftovers, []);
});

Deno.test("remove deletes one entry; add then remove gives back the same document", async () => {
  await using dir = await makeScratchDir();
  const file = await writeExisting(dir);
  const add = await runCli(["add", "tmp", "--config", file, "--", "echo", "hi"], userOf(dir));
  assert.equal(add.code, 0, add.stderr);
  const removed = await runCli(["remove", "tmp", "--config", file], userOf(dir));
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, `Removed tmp from ${file}\n`);
  assert.equal(await Deno.readTextFile(file), JSON.stringify(EXISTING, null, 2) + "\n");
  const again = await runCli(["remove", "zeta", "--config", file], userOf(dir));
  assert.equal(again.code, 0, again.stderr);
  const doc = JSON.parse(await Deno.readTextFile(file));
  assert.deepEqual(Object.keys(doc.mcpServers), ["alpha"]);
  assert.equal(doc._comment, EXISTING._comment);
});

Deno.test("with no config anywhere, add creates $XDG_CONFIG_HOME/toolscript/config.json and remove exits 2", async () => {
  await using dir = await makeScratchDir();
  const xdgFile = join(dir.path, "xdg", "toolscript", "config.json");
  const remove = await runCli(["remove", "memory"], userOf(dir));
  assert.equal(remove.code, 2);
  assert.match(remove.stderr, /config/i);
  await assert.rejects(Deno.stat(xdgFile), Deno.errors.NotFound);
  const add = await runCli(
    ["add", "memory", "--", "npx", "-y", "@modelcontextprotocol/server-memory"],
    userOf(dir),
  );
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, `Added memory to ${xdgFile}\n`);
  assert.equal((await Deno.stat(xdgFile)).mode! & 0o777, 0o600);
  const servers = await runCli(["servers"], userOf(dir));
  assert.equal(servers.code, 0, servers.stderr);
  assert.match(servers.stdout, /^memory\tstdio\tnone\tenabled\tnpx -y @modelcontextprotocol/m);
  const gone = await runCli(["remove", "memory"], userOf(dir));
  assert.equal(gone.code, 0, gone.stderr);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(xdgFile)), { mcpServers: {} });
});

Deno.test("add edits the file a symlinked config points at, and the link stays", async () => {
  await using dir = await makeScratchDir();
  const real = await writeExisting(dir, "real.json");
  const link = join(dir.path, "link.json");
  await Deno.symlink(real, link);
  const add = await runCli(
    ["add", "web", "https://web.example/mcp", "--config", link],
    userOf(dir),
  );
  assert.equal(add.code, 0, add.stderr);
  assert.ok((await Deno.lstat(link)).isSymlink);
  assert.ok(JSON.parse(await Deno.readTextFile(real)).mcpServers.web);
});

Deno.test("editing a trusted ./.toolscript.json keeps it trusted; an untrusted one stays untrusted", async () => {
  await using trusted = await makeScratchDir();
  await using untrusted = await makeScratchDir();
  for (const dir of [trusted, untrusted]) await writeExisting(dir, ".toolscript.json");
  const trust = await runCli(["trust"], userOf(trusted));
  assert.equal(trust.code, 0, trust.stderr);
  const [addTrusted, addUntrusted] = await Promise.all(
    [trusted, untrusted].map((dir) =>
      runCli(["add", "web", "https://web.example/mcp"], userOf(dir))
    ),
  );
  assert.equal(addTrusted.code, 0, addTrusted.stderr);
  assert.equal(addUntrusted.code, 0, addUntrusted.stderr);
  const [listTrusted, listUntrusted] = await Promise.all(
    [trusted, untrusted].map((dir) => runCli(["servers"], userOf(dir))),
  );
  assert.equal(listTrusted.code, 0, listTrusted.stderr);
  assert.match(listTrusted.stdout, /^web\thttp/m);
  assert.equal(listUntrusted.code, 2);
  assert.match(listUntrusted.stderr, /^fix: toolscript trust /m);
});

Deno.test("add, remove and import answer --help", async () => {
  const results = await Promise.all(
    ["add", "remove", "import"].map((c) => runCli([c, "--help"])),
  );
  for (const [i, c] of ["add", "remove", "import"].entries()) {
    assert.equal(results[i].code, 0, results[i].stderr);
    assert.match(results[i].stdout, new RegExp(`^Usage: toolscript ${c}`));
  }
});
