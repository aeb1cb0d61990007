import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir, runCli, writeConfig } from "../_helpers.ts";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../fixtures/http_server.ts";

/**
 * Calls the fixture's `whoami` tool through the CLI and returns the headers the fixture received
 * with that call's requests (`headers`; the echo in the result has configured secrets masked) and
 * the echo itself (`echoed`). Runs one at a time per fixture, so requests are this call's.
 */
async function whoami(
  http: HttpMcpServerHandle,
  config: string,
  home: string,
  server: string,
  options: { env?: Record<string, string>; extra?: string[] } = {},
): Promise<
  {
    headers: Record<string, string>;
    echoed: Record<string, string>;
    stderr: string;
    code: number;
  }
> {
  const before = http.requests.length;
  const call = await echoedHeaders(config, home, server, options);
  const headers: Record<string, string> = {};
  for (const request of http.requests.slice(before)) Object.assign(headers, request.headers);
  return { ...call, echoed: call.headers, headers };
}

async function echoedHeaders(
  config: string,
  home: string,
  server: string,
  options: { env?: Record<string, string>; extra?: string[] },
): Promise<{ headers: Record<string, string>; stderr: string; code: number }> {
  const result = await runCli(
    ["call", server, "whoami", "--config", config, ...(options.extra ?? [])],
    { home, env: { TOOLSCRIPT_LOG: "debug", ...options.env } },
  );
  if (result.code !== 0) return { headers: {}, stderr: result.stderr, code: result.code };
  const text = JSON.parse(result.stdout).content[0].text;
  return { headers: JSON.parse(text), stderr: result.stderr, code: result.code };
}

Deno.test("each static credential type reaches the server in the right header", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "web" });
  const canary = {
    literal: "canary-literal-1b2c3d",
    file: "canary-file-4e5f6a",
    env: "canary-env-7b8c9d",
    key: "canary-key-0e1f2a",
    password: "canary-pass-3b4c5d",
  };
  const tokenFile = join(dir.path, "token");
  await Deno.writeTextFile(tokenFile, canary.file + "\n", { mode: 0o600 });
  const config = await writeConfig(dir, {
    mcpServers: {
      literal: { type: "http", url: http.url, auth: { type: "bearer", token: canary.literal } },
      file: { type: "http", url: http.url, auth: { type: "bearer", tokenFile } },
      env: { type: "http", url: http.url, auth: { type: "bearer", tokenEnv: "SPEC_BEARER" } },
      key: {
        type: "http",
        url: http.url,
        headers: { "X-Team": "core" },
        auth: { type: "api_key", header: "X-Custom-Key", key: canary.key },
      },
      basic: {
        type: "http",
        url: http.url,
        auth: { type: "basic", username: "ada", password: canary.password },
      },
    },
  });
  const env = { SPEC_BEARER: canary.env };
  const runs = [];
  for (const s of ["literal", "file", "env", "key", "basic"]) {
    runs.push(await whoami(http, config, dir.path, s, { env }));
  }
  const [literal, file, fromEnv, key, basic] = runs;
  assert.equal(literal.headers.authorization, `Bearer ${canary.literal}`);
  assert.equal(file.headers.authorization, `Bearer ${canary.file}`, "trailing newline trimmed");
  assert.equal(fromEnv.headers.authorization, `Bearer ${canary.env}`);
  assert.equal(key.headers["x-custom-key"], canary.key);
  assert.equal(key.headers["x-team"], "core");
  assert.equal(basic.headers.authorization, `Basic ${btoa(`ada:${canary.password}`)}`);
  // The fixture echoes what it got; the gateway masks the configured secrets in that echo.
  assert.match(literal.echoed.authorization, /^Bearer \[redacted:[0-9a-f]{8}\]$/);
  assert.equal(key.echoed["x-team"], "core");
  const stderr = [literal, file, fromEnv, key, basic].map((r) => r.stderr).join("\n");
  for (const secret of [...Object.values(canary), btoa(`ada:${canary.password}`)]) {
    assert.ok(!stderr.includes(secret), `secret leaked to stderr: ${secret.slice(0, 12)}…`);
  }
});

Deno.test("precedence: --token over TOOLSCRIPT_TOKEN_<SERVER> over configured auth", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: {
      "my-web": {
        type: "http",
        url: http.url,
        auth: { type: "bearer", token: "from-config-1a2b" },
      },
    },
  });
  const env = { TOOLSCRIPT_TOKEN_MY_WEB: "from-env-3c4d" };
  const configured = await whoami(http, config, dir.path, "my-web");
  const overridden = await whoami(http, config, dir.path, "my-web", { env });
  const flagged = await whoami(http, config, dir.path, "my-web", {
    env,
    extra: ["--token", "from-flag-5e6f"],
  });
  assert.equal(configured.headers.authorization, "Bearer from-config-1a2b");
  assert.equal(overridden.headers.authorization, "Bearer from-env-3c4d");
  assert.equal(flagged.headers.authorization, "Bearer from-flag-5e6f");
  assert.ok(!flagged.stderr.includes("from-flag-5e6f"));
});

Deno.test("a rejected static credential fails the call with the server named and no secret", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({
    name: "web",
    auth: { verify: () => Promise.resolve(undefined) },
  });
  const secret = "canary-rejected-7a8b9c";
  const config = await writeConfig(dir, {
    mcpServers: { web: { type: "http", url: http.url, auth: { type: "bearer", token: secret } } },
  });
  const result = await runCli(["call", "web", "echo", '{"text":"x"}', "--config", config], {
    home: dir,
    env: { TOOLSCRIPT_LOG: "debug" },
  });
  assert.notEqual(result.code, 0);
  const output = result.stdout + result.stderr;
  assert.match(output, /"web"/);
  assert.ok(!output.includes(secret));
});

Deno.test("allowUnauthenticated: a server with no stored login is called without credentials", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "open" });
  const config = await writeConfig(dir, {
    mcpServers: {
      lenient: { type: "http", url: http.url, auth: { type: "oauth" }, allowUnauthenticated: true },
      strict: { type: "http", url: http.url, auth: { type: "oauth" } },
    },
  });
  const [lenient, strict] = await Promise.all([
    whoami(http, config, dir.path, "lenient"),
    runCli(["call", "strict", "whoami", "--config", config], { home: dir }),
  ]);
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.equal(lenient.headers.authorization, undefined);
  assert.equal(strict.code, 3, "without allowUnauthenticated the login is required");
  assert.match(strict.stdout, /toolscript auth strict --config/);
});
