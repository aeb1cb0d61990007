import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir, runCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

Deno.test("every command answers --help with exit 0", async () => {
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0);
  // Every command the top-level help lists, so a new command is checked without editing this.
  const listed = top.stdout.split("\nCommands:\n")[1]?.split("\n\n")[0] ?? "";
  const commands = [...listed.matchAll(/^ {2}(\S+) /gm)].map((m) => m[1]);
  for (const known of ["gateway", "auth", "logout", "status", "exec", "search"]) {
    assert.ok(commands.includes(known), `"${known}" in the help: ${top.stdout}`);
  }
  // Four at a time: the machine is shared.
  for (let i = 0; i < commands.length; i += 4) {
    const batch = commands.slice(i, i + 4);
    const results = await Promise.all(batch.map((c) => runCli([c, "--help"])));
    for (const [j, result] of results.entries()) {
      assert.equal(result.code, 0, `${batch[j]} --help: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`Usage: toolscript ${batch[j]}\\b`));
    }
  }
});

Deno.test("no command at all prints the help on stderr, not stdout (exit 2)", async () => {
  const result = await runCli([]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /Usage: toolscript <command>/);
});

Deno.test("an unknown command or flag is a usage error (exit 2)", async () => {
  const [command, flag] = await Promise.all([
    runCli(["frobnicate"]),
    runCli(["servers", "--frobnicate"]),
  ]);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /Unknown command "frobnicate"/);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /frobnicate/);
});

Deno.test("with no config anywhere, commands fail with exit 2 and say where they looked", async () => {
  await using dir = await makeScratchDir();
  const result = await runCli(["servers"], {
    cwd: dir.path,
    env: { HOME: dir.path, XDG_CONFIG_HOME: join(dir.path, "xdg") },
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /config/i);
  assert.match(result.stderr, /\.toolscript\.json/);
});

Deno.test("invalid JSON in the config reports line and column (exit 2)", async () => {
  await using dir = await makeScratchDir();
  const file = join(dir.path, "bad.json");
  await Deno.writeTextFile(file, '{\n  "mcpServers": {\n    "a": { "command": "x", }\n  }\n}\n');
  const result = await runCli(["servers", "--config", file]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /bad\.json/);
  assert.match(result.stderr, /line 3/);
});

Deno.test("an unset variable is a config error naming it, never a value", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, {
    mcpServers: {
      web: {
        type: "http",
        url: "http://127.0.0.1:1/mcp",
        headers: { "X-Key": "${TS_SPEC_UNSET_VAR}" },
      },
    },
  });
  const result = await runCli(["servers", "--config", config], {
    env: { TS_SPEC_UNSET_VAR: undefined },
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /TS_SPEC_UNSET_VAR/);
  assert.match(result.stderr, /mcpServers\.web/);
});

Deno.test("call prints the result JSON; an upstream isError exits 1; an unknown server exits 2", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: { local: stdioServerCommand() } });
  const [ok, failed, unknown, badJson] = await Promise.all([
    runCli(["call", "local", "echo", '{"text":"hi"}', "--config", config], { home: dir }),
    runCli(["call", "local", "fail", "--config", config], { home: dir }),
    runCli(["call", "nope", "echo", "--config", config], { home: dir }),
    runCli(["call", "local", "echo", "{not json", "--config", config], { home: dir }),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).content[0].text, "echo: hi");
  assert.equal(failed.code, 1);
  assert.equal(JSON.parse(failed.stdout).isError, true);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown server "nope"/);
  assert.equal(badJson.code, 2);
});

Deno.test("tools and servers list what the config holds", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: {
      local: stdioServerCommand(),
      web: { type: "http", url: http.url },
      off: { type: "http", url: "http://127.0.0.1:1/mcp", enabled: false },
    },
  });
  const [tools, servers] = await Promise.all([
    runCli(["tools", "--config", config], { home: dir }),
    runCli(["servers", "--json", "--config", config], { home: dir }),
  ]);
  assert.equal(tools.code, 0, tools.stderr);
  assert.match(tools.stdout, /^local__echo\t/m);
  assert.match(tools.stdout, /^web__add\t/m);
  assert.doesNotMatch(tools.stdout, /^off__/m);
  const rows = JSON.parse(servers.stdout);
  assert.deepEqual(rows.map((r: { name: string }) => r.name), ["local", "web", "off"]);
  assert.equal(rows[2].enabled, false);
});

Deno.test("MCP_SERVER_URL without a config file gives an ad-hoc server named default", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "adhoc" });
  const token = "adhoc-canary-token-93a1";
  const result = await runCli(["call", "default", "whoami"], {
    cwd: dir.path,
    home: dir,
    env: {
      HOME: dir.path,
      XDG_CONFIG_HOME: join(dir.path, "xdg"),
      MCP_SERVER_URL: http.url,
      MCP_AUTH_TOKEN: token,
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Bearer/);
  assert.ok(!result.stderr.includes(token));
});

Deno.test("the shipped example configs load", async () => {
  const [main, examples] = await Promise.all([
    runCli(["servers", "--json", "--config", "config/toolscript.json"]),
    runCli(["servers", "--json", "--config", "config/examples.json"]),
  ]);
  assert.equal(main.code, 0, main.stderr);
  assert.deepEqual(JSON.parse(main.stdout).map((s: { name: string }) => s.name), ["everything"]);
  assert.equal(examples.code, 0, examples.stderr);
  const kinds = JSON.parse(examples.stdout).map((s: { auth: string }) => s.auth);
  assert.deepEqual(kinds, ["none", "oauth", "client_credentials", "api_key", "none"]);
});

Deno.test("servers never prints secrets carried in arguments or URLs", async () => {
  await using dir = await makeScratchDir();
  const secret = "canary-servers-8d2e1f";
  const config = await writeConfig(dir, {
    mcpServers: {
      srv: { command: "x", args: ["--token", "${SPEC_TOKEN}"] },
      web: { url: "https://u:pw-canary-77ab@example.com/mcp?api_key=${SPEC_TOKEN}" },
    },
  });
  const [text, json] = await Promise.all([
    runCli(["servers", "--config", config], { env: { SPEC_TOKEN: secret } }),
    runCli(["servers", "--json", "--config", config], { env: { SPEC_TOKEN: secret } }),
  ]);
  for (const result of [text, json]) {
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes(secret));
    assert.ok(!result.stdout.includes("pw-canary-77ab"));
  }
});

Deno.test("a disabled server may have unset variables, and naming it asks to enable it (exit 2)", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, {
    mcpServers: {
      local: stdioServerCommand(),
      off: { enabled: false, url: "${TS_SPEC_LATER_URL}" },
    },
  });
  const env = { TS_SPEC_LATER_URL: undefined };
  const [servers, call, tools, status, auth] = await Promise.all([
    runCli(["servers", "--json", "--config", config], { home: dir, env }),
    runCli(["call", "off", "echo", "--config", config], { home: dir, env }),
    runCli(["tools", "off", "--config", config], { home: dir, env }),
    runCli(["status", "off", "--config", config], { home: dir, env }),
    runCli(["auth", "off", "--no-browser", "--config", config], { home: dir, env }),
  ]);
  assert.equal(servers.code, 0, servers.stderr);
  const rows = JSON.parse(servers.stdout);
  assert.deepEqual(rows.map((r: { enabled: boolean }) => r.enabled), [true, false]);
  for (const [name, result] of Object.entries({ call, tools, status })) {
    assert.equal(result.code, 2, `${name}: ${result.stderr}`);
    assert.match(result.stderr, /Server "off" is disabled/, name);
    assert.match(result.stderr, /fix: set "enabled": true on server "off"/, name);
  }
  assert.equal(auth.code, 2, auth.stderr);
  assert.match(auth.stderr, /TS_SPEC_LATER_URL/);
});
