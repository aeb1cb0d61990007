import assert from "node:assert/strict";
import { configError, envOf } from "./_testing.ts";
import type {
  ClientCredentialsAuthConfig,
  OAuthAuthConfig,
  RemoteServerConfig,
  StdioServerConfig,
} from "./types.ts";
import { validateConfig } from "./validate_config.ts";

const FILE = "/etc/toolscript/config.json";

function validate(raw: unknown, env: Record<string, string> = {}) {
  return validateConfig(raw, { file: FILE, source: "flag", env: envOf(env) });
}

/** One server entry named `s`. */
function server(entry: unknown) {
  return { mcpServers: { s: entry } };
}

/** An http server `s` with an auth block. */
function withAuth(auth: unknown, extra: Record<string, unknown> = {}) {
  return server({ url: "https://mcp.example/mcp", auth, ...extra });
}

const CC = {
  type: "client_credentials",
  tokenUrl: "https://as.example/token",
  clientId: "id",
  clientSecret: "sec",
};

const INVALID: { name: string; raw: unknown; env?: Record<string, string>; path?: string }[] = [
  // The document.
  { name: "a config that is not an object", raw: [], path: undefined },
  { name: "a missing mcpServers", raw: {}, path: "mcpServers" },
  { name: "mcpServers that is not an object", raw: { mcpServers: [] }, path: "mcpServers" },
  { name: "an unknown top-level key", raw: { mcpServer: {}, mcpServers: {} }, path: "mcpServer" },
  {
    name: "a server name with a space",
    raw: { mcpServers: { "a b": {} } },
    path: 'mcpServers["a b"]',
  },
  {
    name: "a server name of 65 characters",
    raw: { mcpServers: { ["x".repeat(65)]: {} } },
    path: `mcpServers.${"x".repeat(65)}`,
  },
  // The gateway.
  {
    name: "an unknown gateway key",
    raw: { gateway: { hots: "x" }, mcpServers: {} },
    path: "gateway.hots",
  },
  {
    name: "a gateway port above 65535",
    raw: { gateway: { port: 70000 }, mcpServers: {} },
    path: "gateway.port",
  },
  {
    name: "a fractional gateway port",
    raw: { gateway: { port: 1.5 }, mcpServers: {} },
    path: "gateway.port",
  },
  {
    name: "a non-numeric gateway port",
    raw: { gateway: { port: "${PORT}" }, mcpServers: {} },
    env: { PORT: "http" },
    path: "gateway.port",
  },
  {
    name: "an empty gateway host",
    raw: { gateway: { host: "" }, mcpServers: {} },
    path: "gateway.host",
  },
  {
    name: "gateway.allowedHosts that is not an array",
    raw: { gateway: { allowedHosts: "gw.example" }, mcpServers: {} },
    path: "gateway.allowedHosts",
  },
  {
    name: "a gateway allowed host with a port",
    raw: { gateway: { allowedHosts: ["gw.example", "gw.example:3333"] }, mcpServers: {} },
    path: "gateway.allowedHosts[1]",
  },
  {
    name: "a gateway allowed host given as a URL",
    raw: { gateway: { allowedHosts: ["http://gw.example"] }, mcpServers: {} },
    path: "gateway.allowedHosts[0]",
  },
  {
    name: "a wildcard gateway allowed host",
    raw: { gateway: { allowedHosts: ["*.example"] }, mcpServers: {} },
    path: "gateway.allowedHosts[0]",
  },
  {
    name: "a gateway expose other than tools, code or both",
    raw: { gateway: { expose: "all" }, mcpServers: {} },
    path: "gateway.expose",
  },
  {
    name: "the reserved server name toolscript",
    raw: { mcpServers: { toolscript: { url: "https://mcp.example/mcp" } } },
    path: "mcpServers.toolscript",
  },
  {
    name: "the reserved prefix toolscript",
    raw: server({ url: "https://mcp.example/mcp", prefix: "toolscript" }),
    path: "mcpServers.s.prefix",
  },
  // Every server.
  { name: "a server that is not an object", raw: server("npx"), path: "mcpServers.s" },
  {
    name: "an unknown type",
    raw: server({ type: "websocket", url: "https://a.example" }),
    path: "mcpServers.s.type",
  },
  { name: "an unknown server key", raw: server({ comand: "npx" }), path: "mcpServers.s.comand" },
  {
    name: "a non-boolean enabled",
    raw: server({ command: "x", enabled: "yes" }),
    path: "mcpServers.s.enabled",
  },
  {
    name: "a zero timeout",
    raw: server({ command: "x", timeout: 0 }),
    path: "mcpServers.s.timeout",
  },
  {
    name: "a negative timeout",
    raw: server({ command: "x", timeout: -1 }),
    path: "mcpServers.s.timeout",
  },
  {
    name: "a non-boolean allowUnauthenticated",
    raw: server({ command: "x", allowUnauthenticated: 1 }),
    path: "mcpServers.s.allowUnauthenticated",
  },
  {
    name: "an unset variable",
    raw: server({ url: "https://${HOST}/mcp" }),
    path: "mcpServers.s.url",
  },
  // stdio.
  {
    name: "a stdio server without command",
    raw: server({ type: "stdio" }),
    path: "mcpServers.s.command",
  },
  {
    name: "a non-string command",
    raw: server({ type: "stdio", command: ["npx"] }),
    path: "mcpServers.s.command",
  },
  {
    name: "args that are not an array",
    raw: server({ command: "x", args: "-y" }),
    path: "mcpServers.s.args",
  },
  {
    name: "a non-string arg",
    raw: server({ command: "x", args: ["a", 1] }),
    path: "mcpServers.s.args[1]",
  },
  {
    name: "a non-string env value",
    raw: server({ command: "x", env: { PORT: 80 } }),
    path: "mcpServers.s.env.PORT",
  },
  {
    name: "an env name with '='",
    raw: server({ command: "x", env: { "A=B": "1" } }),
    path: 'mcpServers.s.env["A=B"]',
  },
  {
    name: "auth on a stdio server",
    raw: server({ command: "x", auth: { type: "bearer", token: "t" } }),
    path: "mcpServers.s.auth",
  },
  {
    name: "a url on a stdio server",
    raw: server({ command: "x", url: "https://a.example" }),
    path: "mcpServers.s.url",
  },
  {
    name: "allowInsecureHttp on a stdio server",
    raw: server({ command: "x", allowInsecureHttp: true }),
    path: "mcpServers.s.allowInsecureHttp",
  },
  // http and sse.
  { name: "an http server without url", raw: server({ type: "http" }), path: "mcpServers.s.url" },
  {
    name: "a command on an http server",
    raw: server({ type: "http", url: "https://a.example", command: "x" }),
    path: "mcpServers.s.command",
  },
  {
    name: "a url that does not parse",
    raw: server({ url: "not a url" }),
    path: "mcpServers.s.url",
  },
  {
    name: "a non-http url",
    raw: server({ type: "sse", url: "ftp://a.example/mcp" }),
    path: "mcpServers.s.url",
  },
  {
    name: "http:// to a remote host",
    raw: server({ url: "http://mcp.example/mcp" }),
    path: "mcpServers.s.url",
  },
  {
    name: "http:// to a host that only starts with 127",
    raw: server({ url: "http://127.example.com/" }),
    path: "mcpServers.s.url",
  },
  {
    name: "a header name with a space",
    raw: server({ url: "https://a.example", headers: { "X Team": "a" } }),
    path: 'mcpServers.s.headers["X Team"]',
  },
  {
    name: "a header value with CRLF",
    raw: server({ url: "https://a.example", headers: { "X-Team": "a\r\nX-Evil: 1" } }),
    path: "mcpServers.s.headers.X-Team",
  },
  {
    name: "a header value with LF from a variable",
    raw: server({ url: "https://a.example", headers: { "X-Team": "${TEAM}" } }),
    env: { TEAM: "a\nb" },
    path: "mcpServers.s.headers.X-Team",
  },
  {
    name: "a header value with NUL",
    raw: server({ url: "https://a.example", headers: { "X-Team": "a\0" } }),
    path: "mcpServers.s.headers.X-Team",
  },
  {
    name: "a non-string header value",
    raw: server({ url: "https://a.example", headers: { "X-Count": 1 } }),
    path: "mcpServers.s.headers.X-Count",
  },
];

for (const { name, raw, env, path } of INVALID) {
  Deno.test(`validateConfig() rejects ${name} at its JSON path`, () => {
    const error = configError(() => validate(raw, env));
    assert.equal(error.path, path);
    assert.equal(error.file, FILE);
    assert.equal(error.code, "config");
  });
}

Deno.test("validateConfig() fills in defaults and infers the type from command or url", () => {
  const config = validate({
    mcpServers: {
      local: { command: "npx" },
      remote: { url: "https://mcp.example/mcp" },
      legacy: { type: "sse", url: "https://sse.example/sse", timeout: 2.5, enabled: false },
    },
  });
  assert.equal(config.file, FILE);
  assert.equal(config.source, "flag");
  assert.deepEqual(config.gateway, { host: "127.0.0.1", port: 3333, expose: "tools" });
  assert.deepEqual(config.servers, [
    {
      name: "local",
      type: "stdio",
      command: "npx",
      args: [],
      env: {},
      cwd: undefined,
      enabled: true,
      allowUnauthenticated: false,
      timeoutMs: 30000,
      prefix: "local",
    },
    {
      name: "remote",
      type: "http",
      url: "https://mcp.example/mcp",
      headers: {},
      auth: undefined,
      allowInsecureHttp: false,
      tokenOverride: undefined,
      enabled: true,
      allowUnauthenticated: false,
      timeoutMs: 30000,
      prefix: "remote",
    },
    {
      name: "legacy",
      type: "sse",
      url: "https://sse.example/sse",
      headers: {},
      auth: undefined,
      allowInsecureHttp: false,
      tokenOverride: undefined,
      enabled: false,
      allowUnauthenticated: false,
      timeoutMs: 2500,
      prefix: "legacy",
    },
  ]);
  assert.deepEqual(config.secrets, []);
});

Deno.test("validateConfig() accepts an empty mcpServers and keys starting with _ or $", () => {
  const config = validate({
    $schema: "https://example.com/schema.json",
    _comment: "needs ${NOT_SET}",
    gateway: { _comment: "x", host: "0.0.0.0", port: 0 },
    mcpServers: {},
  });
  assert.deepEqual(config.servers, []);
  assert.deepEqual(config.gateway, { host: "0.0.0.0", port: 0, expose: "tools" });
  const withComments = validate(server({
    _comment: "${NOT_SET}",
    url: "https://a.example",
    auth: { type: "oauth", $note: "pre-registered later" },
  }));
  assert.deepEqual((withComments.servers[0] as RemoteServerConfig).auth, {
    type: "oauth",
    clientId: undefined,
    clientSecret: undefined,
    clientMetadataUrl: undefined,
    scopes: undefined,
    callbackPort: undefined,
    redirectUri: undefined,
  });
});

Deno.test("validateConfig() expands variables in every string, numbers and booleans included", () => {
  const config = validate({
    gateway: { host: "${HOST:-127.0.0.1}", port: "${PORT:-4444}" },
    mcpServers: {
      s: {
        command: "${BIN}",
        args: ["--root", "${ROOT:-/srv}"],
        env: { MODE: "${MODE:-dev}" },
        enabled: "${ENABLED}",
        timeout: "${TIMEOUT}",
      },
    },
  }, { BIN: "/usr/bin/server", ENABLED: "false", TIMEOUT: "5" });
  assert.deepEqual(config.gateway, { host: "127.0.0.1", port: 4444, expose: "tools" });
  const s = config.servers[0] as StdioServerConfig;
  assert.equal(s.command, "/usr/bin/server");
  assert.deepEqual(s.args, ["--root", "/srv"]);
  assert.deepEqual(s.env, { MODE: "dev" });
  assert.equal(s.enabled, false);
  assert.equal(s.timeoutMs, 5000);
});

Deno.test("validateConfig() names the variable and the server but no value when a variable is unset", () => {
  const error = configError(() =>
    validate(
      server({
        url: "https://${HOST}/mcp",
        headers: { Authorization: "Bearer ${TOKEN}${SUFFIX}" },
      }),
      { HOST: "mcp.example", TOKEN: "SENTINEL-VALUE" },
    )
  );
  assert.ok(error.message.includes('"SUFFIX"'));
  assert.ok(error.message.includes('server "s"'));
  assert.equal(error.path, "mcpServers.s.headers.Authorization");
  assert.doesNotMatch(error.message, /SENTINEL|mcp\.example|Bearer/);
});

Deno.test("validateConfig() allows http:// to loopback hosts, and elsewhere only with allowInsecureHttp", () => {
  for (
    const url of [
      "http://127.0.0.1:8080/mcp",
      "http://localhost/mcp",
      "http://[::1]:9/",
      "http://127.9.8.7/",
    ]
  ) {
    assert.equal((validate(server({ url })).servers[0] as RemoteServerConfig).url, url);
  }
  const config = validate(server({
    url: "http://mcp.lan/mcp",
    allowInsecureHttp: true,
    auth: { ...CC, tokenUrl: "http://as.lan/token" },
  }));
  const s = config.servers[0] as RemoteServerConfig;
  assert.equal(s.allowInsecureHttp, true);
  assert.equal((s.auth as ClientCredentialsAuthConfig).tokenUrl, "http://as.lan/token");
  const oauth = validate(withAuth({
    type: "oauth",
    clientMetadataUrl: "http://localhost:9000/client.json",
  })).servers[0] as RemoteServerConfig;
  assert.equal(
    (oauth.auth as OAuthAuthConfig).clientMetadataUrl,
    "http://localhost:9000/client.json",
  );
});

Deno.test("validateConfig() collects every secret value for the redactor, and no other value", () => {
  const config = validate({
    mcpServers: {
      oauth: {
        url: "https://a.example",
        auth: { type: "oauth", clientId: "public-id", clientSecret: "oauth-secret" },
      },
      bearer: { url: "https://b.example", auth: { type: "bearer", token: "${B_TOKEN}" } },
      env: { url: "https://c.example", auth: { type: "bearer", tokenEnv: "E_TOKEN" } },
      key: {
        url: "https://d.example",
        auth: { type: "api_key", header: "X-Key", key: "api-key-value" },
      },
      basic: {
        url: "https://e.example",
        auth: { type: "basic", username: "user", password: "pass-value" },
      },
      hdr: {
        url: "https://user:url-password@f.example",
        headers: {
          Authorization: "Bearer header-bearer",
          "X-API-Key": "header-api-key",
          Cookie: "sid=cookie-value",
          "X-Team": "core",
        },
      },
      child: {
        command: "x",
        args: ["--key=${SERVICE_KEY}", "--dir=${WORKDIR}"],
        env: { GITHUB_TOKEN: "child-token", LOG_LEVEL: "debug" },
      },
    },
  }, {
    B_TOKEN: "bearer-value",
    E_TOKEN: "env-bearer-value",
    TOOLSCRIPT_TOKEN_HDR: "override",
    SERVICE_KEY: "service-key-value",
    WORKDIR: "/srv/work",
  });
  assert.deepEqual(
    new Set(config.secrets),
    new Set([
      "oauth-secret",
      "bearer-value",
      "env-bearer-value",
      "api-key-value",
      "pass-value",
      "url-password",
      "Bearer header-bearer",
      "header-bearer",
      "header-api-key",
      "sid=cookie-value",
      "override",
      "child-token",
      "service-key-value",
    ]),
  );
});

Deno.test("validateConfig() takes TOOLSCRIPT_TOKEN_MY_SERVER as the override of server my-server only", () => {
  const config = validate({
    mcpServers: {
      "my-server": { url: "https://a.example" },
      other: { url: "https://b.example" },
    },
  }, { TOOLSCRIPT_TOKEN_MY_SERVER: "override-token", MCP_AUTH_TOKEN: "adhoc-only" });
  const [mine, other] = config.servers as RemoteServerConfig[];
  assert.equal(mine.tokenOverride, "override-token");
  assert.equal(other.tokenOverride, undefined);
  assert.deepEqual(config.secrets, ["override-token"]);
});

Deno.test("validateConfig() refuses two servers whose names share a TOOLSCRIPT_TOKEN_ variable", () => {
  for (const [first, second] of [["team-api", "team_api"], ["team_api", "Team_Api"]]) {
    const error = configError(() =>
      validate({
        mcpServers: {
          [first]: { url: "https://a.example", enabled: false },
          [second]: { command: "server" },
        },
      }, { TOOLSCRIPT_TOKEN_TEAM_API: "SENTINEL-token" })
    );
    assert.equal(error.file, FILE);
    assert.equal(error.path, `mcpServers.${second}`);
    assert.ok(error.message.includes(`"${first}"`) && error.message.includes(`"${second}"`));
    assert.ok(error.message.includes("TOOLSCRIPT_TOKEN_TEAM_API"));
    assert.doesNotMatch(error.message, /SENTINEL/);
  }
});

Deno.test("validateConfig() suggests the key a typo was meant to be", () => {
  const error = configError(() => validate(server({ url: "https://a.example", hedaers: {} })));
  assert.equal(error.path, "mcpServers.s.hedaers");
  assert.match(error.message, /did you mean "headers"/);
});

Deno.test("validateConfig() records token-like values of ordinary headers as secrets, not short words", () => {
  const config = validate(server({
    url: "https://a.example",
    headers: { "X-Custom-Auth": "tenant-4711-abcdef", "X-Region": "eu", "X-Team": "core" },
  }));
  assert.deepEqual(new Set(config.secrets), new Set(["tenant-4711-abcdef"]));
});

Deno.test("validateConfig() keeps a disabled server whose variables are unset, as a placeholder", () => {
  const config = validate({
    mcpServers: {
      later: {
        enabled: false,
        url: "${LATER_URL}",
        auth: { type: "bearer", tokenEnv: "LATER_TOKEN" },
      },
      tool: { enabled: "${TOOL_ON:-false}", command: "${TOOL_BIN}", args: ["${TOOL_ARG}"] },
      ready: { enabled: false, url: "https://ready.example/mcp", headers: { "X-Team": "core" } },
    },
  });
  const [later, tool, ready] = config.servers;
  assert.equal(later.enabled, false);
  assert.equal(later.type, "http");
  assert.equal((later as RemoteServerConfig).url, "${LATER_URL}");
  assert.equal(later.auth, undefined);
  assert.match(later.configError ?? "", /LATER_URL/);
  assert.equal(tool.type, "stdio");
  assert.equal((tool as StdioServerConfig).command, "${TOOL_BIN}");
  assert.match(tool.configError ?? "", /TOOL_BIN/);
  // A disabled server that validates is read in full, as before.
  assert.equal(ready.configError, undefined);
  assert.deepEqual((ready as RemoteServerConfig).headers, { "X-Team": "core" });
});

Deno.test("validateConfig() reads enabled before the rest, and still checks enabled servers in full", () => {
  const unset = configError(() => validate(server({ enabled: true, url: "${NOPE_URL}" })));
  assert.equal(unset.path, "mcpServers.s.url");
  const badFlag = configError(() => validate(server({ enabled: "${NOPE_FLAG}", url: "x" })));
  assert.equal(badFlag.path, "mcpServers.s.enabled");
  const config = validate(server({ enabled: "${ON}", command: "${BIN}" }), { ON: "false" });
  assert.equal(config.servers[0].enabled, false);
});

Deno.test("validateConfig() spells gateway.allowedHosts as URL.hostname does, and leaves it out when absent", () => {
  const config = validate({
    gateway: { host: "0.0.0.0", allowedHosts: ["GW.Example", "::1", "[fd00::5]", "10.0.0.7"] },
    mcpServers: {},
  });
  assert.deepEqual(config.gateway.allowedHosts, ["gw.example", "[::1]", "[fd00::5]", "10.0.0.7"]);
  assert.equal(validate({ gateway: { port: 1 }, mcpServers: {} }).gateway.allowedHosts, undefined);
});

Deno.test("validateConfig() reads gateway.expose, default tools", () => {
  for (const expose of ["tools", "code", "both"]) {
    assert.equal(validate({ gateway: { expose }, mcpServers: {} }).gateway.expose, expose);
  }
  assert.equal(validate({ gateway: {}, mcpServers: {} }).gateway.expose, "tools");
});
