import assert from "node:assert/strict";
import { validateConfig } from "../config/validate_config.ts";
import { describeConfig, parseTrustArgs } from "./trust.ts";

const FILE = "/w/.toolscript.json";

/** Describes `raw`; a top-level `store` (a block other branches add) is left out of validation. */
function describe(raw: Record<string, unknown>, env: Record<string, string> = {}): string {
  const { store: _store, ...known } = raw;
  const config = validateConfig(known, { file: FILE, source: "cwd", env: (name) => env[name] });
  return describeConfig(FILE, raw, config).join("\n");
}

Deno.test("parseTrustArgs() takes an optional path, else --config, else none", () => {
  assert.equal(parseTrustArgs([]).path, undefined);
  assert.equal(parseTrustArgs(["a.json"]).path, "a.json");
  assert.equal(parseTrustArgs(["--config", "b.json"]).path, "b.json");
  assert.throws(() => parseTrustArgs(["a", "b"]), { code: "usage" });
});

Deno.test("describeConfig() shows command lines, URLs, files and variable names, never values", () => {
  const text = describe({
    store: { type: "redis", url: "redis://cache.example:6379" },
    mcpServers: {
      local: {
        command: "sh",
        args: ["-c", "run ${SECRET_ARG}"],
        cwd: "./srv",
        env: { API_KEY: "SENTINEL-literal", OTHER: "${CHILD_SECRET}" },
      },
      api: {
        url: "https://api.example/mcp",
        auth: {
          type: "client_credentials",
          tokenUrl: "https://as.example/token",
          clientIdFile: "/run/id",
          clientSecretEnv: "CLIENT_SECRET_VAR",
        },
      },
      off: { url: "https://off.example/mcp", enabled: false },
    },
  }, {
    SECRET_ARG: "SENTINEL-arg",
    CHILD_SECRET: "SENTINEL-child",
    CLIENT_SECRET_VAR: "SENTINEL-client",
    TOOLSCRIPT_TOKEN_API: "SENTINEL-token",
  });
  assert.doesNotMatch(text, /SENTINEL/);
  for (
    const expected of [
      'server local (stdio):\n    run sh -c "run ${SECRET_ARG}"\n    in ./srv\n    with environment API_KEY, OTHER',
      "read environment variables SECRET_ARG, CHILD_SECRET",
      "reach https://api.example/mcp (url)",
      "reach https://as.example/token (auth.tokenUrl)",
      "read file /run/id (auth.clientIdFile)",
      "read environment variables CLIENT_SECRET_VAR",
      "send $TOOLSCRIPT_TOKEN_API (set in this environment)",
      "server off (http, disabled):",
      "elsewhere in the config:\n    reach redis://cache.example:6379 (store.url)",
    ]
  ) {
    assert.ok(text.includes(expected), `${expected}\n---\n${text}`);
  }
});

Deno.test("describeConfig() escapes terminal control, bidi and non-ASCII characters", () => {
  const text = describe({
    mcpServers: { s: { command: "ok\x1b[2K\u202egood", args: ["caf\u00e9"] } },
  });
  assert.ok(text.includes(String.raw`run "ok\u001b[2K\u202egood" "caf\u00e9"`), text);
  for (const c of ["\x1b", "\u202e", "\u00e9"]) assert.ok(!text.includes(c));
});
