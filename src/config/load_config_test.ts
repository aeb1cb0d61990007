import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { Logger } from "../log.ts";
import { envOf, rejectsConfigError, scratchDir } from "./_testing.ts";
import { loadConfig } from "./load_config.ts";
import { trustConfig, UntrustedConfigError } from "./trusted_configs.ts";
import type { RemoteServerConfig } from "./types.ts";

/** Loads `text` written to `<dir>/config.json` through `--config`. */
async function loadText(dir: string, text: string, env: Record<string, string> = {}) {
  const file = join(dir, "config.json");
  await Deno.writeTextFile(file, text);
  return loadConfig({ flag: file, env: envOf(env), cwd: dir, home: dir });
}

Deno.test("loadConfig() reads, expands and validates the file it finds", async () => {
  await using dir = await scratchDir();
  const text = JSON.stringify({ mcpServers: { api: { url: "https://${HOST}/mcp" } } });
  await Deno.writeTextFile(join(dir.path, ".toolscript.json"), text);
  await trustConfig(join(dir.path, ".toolscript.json"), text, {
    home: join(dir.path, ".toolscript"),
  });
  const lines: string[] = [];
  const config = await loadConfig({
    env: envOf({ HOST: "mcp.example" }),
    cwd: dir.path,
    home: dir.path,
    logger: new Logger({ level: "debug", write: (line) => lines.push(line) }),
  });
  assert.equal(config.file, join(dir.path, ".toolscript.json"));
  assert.equal(config.source, "cwd");
  assert.equal((config.servers[0] as RemoteServerConfig).url, "https://mcp.example/mcp");
  assert.equal(lines.length, 1);
});

Deno.test("loadConfig() reports the line and column of invalid JSON without quoting the text", async () => {
  await using dir = await scratchDir();
  const cases: [string, string][] = [
    ['{\n  "mcpServers": {}\n  "gateway": {}\n}', "line 3, column 3"],
    ['{\n  "mcpServers": {\n    "a": {"url": "https://a.example",},\n  }\n}', "line 3, column 38"],
    ['{"mcpServers": {"a": {"token": "SENTINEL-secret" x}}}', "line 1, column 50"],
    ['{"mcpServers": {"a": {"enabled": tru}}}', "line 1, column 34"],
    ['{"mcpServers": [1, 2,]}', "line 1, column 22"],
    ['{\r\n  "mcpServers": {\r\n    "a": "SENTINEL\tb"}}', "line 3, column 19"],
    ['{"mcpServers": {}} {}', "line 1, column 20"],
    ['{"mcpServers": {"a": "SENTINEL', "line 1, column 31"],
    ["", "line 1, column 1"],
    ["\n\n", "line 3, column 1"],
  ];
  for (const [text, where] of cases) {
    const error = await rejectsConfigError(loadText(dir.path, text));
    assert.equal(error.file, join(dir.path, "config.json"));
    assert.ok(error.message.includes(where), `${JSON.stringify(text)}: ${error.message}`);
    assert.doesNotMatch(error.message, /SENTINEL/);
  }
});

Deno.test("loadConfig() accepts a byte order mark", async () => {
  await using dir = await scratchDir();
  const config = await loadText(dir.path, '\uFEFF{"mcpServers": {}}');
  assert.deepEqual(config.servers, []);
});

Deno.test("loadConfig() puts the file on validation errors", async () => {
  await using dir = await scratchDir();
  const error = await rejectsConfigError(loadText(dir.path, '{"mcpServers": {"a": {}}}'));
  assert.equal(error.file, join(dir.path, "config.json"));
  assert.equal(error.path, "mcpServers.a.url");
});

Deno.test("loadConfig() turns a failing reader into a ConfigError naming the file", async () => {
  await using dir = await scratchDir();
  const file = join(dir.path, "config.json");
  await Deno.writeTextFile(file, "{}");
  const error = await rejectsConfigError(loadConfig({
    flag: file,
    env: envOf({}),
    cwd: dir.path,
    home: dir.path,
    readTextFile: () => Promise.reject(new Deno.errors.PermissionDenied("denied")),
  }));
  assert.equal(error.file, file);
});

Deno.test("loadConfig() without any config file fails listing the places searched", async () => {
  await using dir = await scratchDir();
  const error = await rejectsConfigError(
    loadConfig({ env: envOf({}), cwd: dir.path, home: dir.path }),
  );
  assert.match(error.message, /No config file found/);
  assert.ok(error.message.includes(join(dir.path, ".toolscript.json")));
  assert.ok(error.message.includes(join(dir.path, ".config", "toolscript", "config.json")));
  assert.match(error.message, /MCP_SERVER_URL/);
});

Deno.test("loadConfig() without a config file builds server default from MCP_SERVER_URL", async () => {
  await using dir = await scratchDir();
  const config = await loadConfig({
    env: envOf({ MCP_SERVER_URL: "https://mcp.example/mcp", MCP_AUTH_TOKEN: "adhoc-token" }),
    cwd: dir.path,
    home: dir.path,
  });
  assert.equal(config.source, "adhoc");
  assert.equal(config.file, undefined);
  assert.deepEqual(config.gateway, { host: "127.0.0.1", port: 3333, expose: "tools" });
  assert.deepEqual(config.servers, [{
    name: "default",
    type: "http",
    enabled: true,
    url: "https://mcp.example/mcp",
    headers: {},
    allowInsecureHttp: false,
    allowUnauthenticated: false,
    timeoutMs: 30000,
    tokenOverride: "adhoc-token",
  }]);
  assert.deepEqual(config.secrets, ["adhoc-token"]);
});

Deno.test("loadConfig() refuses an MCP_SERVER_URL of plain http:// to a remote host, with advice that fits", async () => {
  await using dir = await scratchDir();
  const error = await rejectsConfigError(loadConfig({
    env: envOf({ MCP_SERVER_URL: "http://mcp.example/mcp" }),
    cwd: dir.path,
    home: dir.path,
  }));
  assert.equal(error.path, "MCP_SERVER_URL");
  // There is no server entry to set allowInsecureHttp on: the advice names what can be done.
  assert.doesNotMatch(error.message, /on this server/);
  assert.match(error.message, /https:\/\/ URL in MCP_SERVER_URL/);
  assert.match(error.message, /config file with "allowInsecureHttp": true/);
});

Deno.test("loadConfig() never gives MCP_AUTH_TOKEN to a server of a config file", async () => {
  await using dir = await scratchDir();
  const config = await loadText(
    dir.path,
    JSON.stringify({ mcpServers: { default: { url: "https://a.example/mcp" } } }),
    { MCP_SERVER_URL: "https://b.example/mcp", MCP_AUTH_TOKEN: "adhoc-token" },
  );
  assert.equal(config.source, "flag");
  assert.equal((config.servers[0] as RemoteServerConfig).tokenOverride, undefined);
  assert.deepEqual(config.secrets, []);
});

Deno.test("loadConfig() loads the contract's example config", async () => {
  await using dir = await scratchDir();
  const example = {
    gateway: { host: "127.0.0.1", port: 3333 },
    mcpServers: {
      everything: {
        type: "stdio",
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-everything"],
      },
      github: {
        type: "http",
        url: "https://api.githubcopilot.com/mcp/",
        auth: { type: "oauth", scopes: ["repo"] },
      },
      internal: {
        type: "http",
        url: "https://mcp.internal.example/mcp",
        auth: {
          type: "client_credentials",
          tokenUrl: "https://auth.example/oauth/token",
          clientIdFile: "/run/secrets/id",
          clientSecretFile: "/run/secrets/secret",
          scopes: ["mcp:tools:execute"],
        },
      },
      search: {
        type: "http",
        url: "https://search.example/mcp",
        headers: { "X-Team": "core" },
        auth: { type: "api_key", header: "X-API-Key", key: "${SEARCH_KEY}" },
      },
    },
  };
  const config = await loadText(dir.path, JSON.stringify(example, null, 2), {
    SEARCH_KEY: "search-key-value",
  });
  assert.deepEqual(config.servers.map((s) => [s.name, s.type]), [
    ["everything", "stdio"],
    ["github", "http"],
    ["internal", "http"],
    ["search", "http"],
  ]);
  assert.deepEqual(new Set(config.secrets), new Set(["search-key-value"]));
  await assert.rejects(loadText(dir.path, JSON.stringify(example)), ConfigError);
});

Deno.test("loadConfig() refuses an untrusted ./.toolscript.json before expanding any variable", async () => {
  await using dir = await scratchDir();
  const file = join(dir.path, ".toolscript.json");
  const text = JSON.stringify({ mcpServers: { api: { url: "https://${UNSET_HOST}/mcp" } } });
  await Deno.writeTextFile(file, text);
  const home = join(dir.path, "data");
  const env = envOf({ TOOLSCRIPT_HOME: home });
  const refused = await rejectsConfigError(loadConfig({ env, cwd: dir.path, home: dir.path }));
  assert.ok(refused instanceof UntrustedConfigError, refused.message);
  assert.equal(refused.fix, `toolscript trust ${file}`);

  await trustConfig(file, text, { home });
  const unset = await rejectsConfigError(loadConfig({ env, cwd: dir.path, home: dir.path }));
  assert.ok(
    !(unset instanceof UntrustedConfigError),
    "trusted: it is read, and fails on UNSET_HOST",
  );
  assert.match(unset.message, /UNSET_HOST/);
});

Deno.test("loadConfig() uses a ./.toolscript.json named by --config or $TOOLSCRIPT_CONFIG without trust", async () => {
  await using dir = await scratchDir();
  const file = join(dir.path, ".toolscript.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({ mcpServers: { api: { url: "https://a.example" } } }),
  );
  const named = [
    { flag: "./.toolscript.json", env: envOf({}) },
    { env: envOf({ TOOLSCRIPT_CONFIG: file }) },
  ];
  for (const options of named) {
    const config = await loadConfig({ ...options, cwd: dir.path, home: dir.path });
    assert.equal(config.servers[0].name, "api");
  }
});
