/**
 * Config faults at the CLI: a representative table of validation failures (the rules one by
 * one are specified in src/config), plus secret files that are missing, unreadable or too
 * open. Each case runs the real CLI; a broken config must exit 2 with an `error:` line naming
 * the file and the JSON path, and never quote a value from the config or the environment.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, runCli, writeConfig } from "../_helpers.ts";
import type { HttpMcpServerHandle } from "../fixtures/http_server.ts";
import type { FaultCase, FaultLog } from "./_fault_log.ts";

/** What the config cases work with. */
export interface ConfigBench {
  /** A scratch directory for config and secret files. */
  dir: string;
  /** An HTTP upstream for the secret file cases. */
  web: HttpMcpServerHandle;
  log: FaultLog;
}

/** One invalid config and what its error must say. */
interface InvalidConfig {
  name: string;
  /** The config as JSON text (for syntax errors) or an object. */
  config: (canary: string) => string | object;
  /** Extra environment of the CLI. */
  env?: (canary: string) => Record<string, string>;
  /** The JSON path the message must name (`undefined` for syntax errors). */
  path?: string;
  /** What else the message must say (the problem or the fix). */
  says: RegExp;
}

const REMOTE = "https://mcp.example.com/mcp";

/** The table; every config holds a canary that the error must not repeat. */
const INVALID_CONFIGS: InvalidConfig[] = [
  {
    name: "a syntax error names line and column, never the text",
    config: (canary) =>
      `{\n  "mcpServers": {\n    "web": { "url": "${REMOTE}", "headers": { "X-Token": "${canary}" } },\n  }\n}\n`,
    says: /Invalid JSON at line 4, column 3/,
  },
  {
    name: "a missing mcpServers block is named",
    config: () => ({ gateway: { port: 0 } }),
    path: "mcpServers",
    says: /Missing "mcpServers"/,
  },
  {
    name: "an invalid server name is refused",
    config: (canary) => ({ mcpServers: { "my server": { command: "run", args: [canary] } } }),
    path: 'mcpServers["my server"]',
    says: /Invalid server name/,
  },
  {
    name: "a misspelt key gets a did-you-mean",
    config: (canary) => ({ mcpServers: { web: { url: REMOTE, heders: { "X-Token": canary } } } }),
    path: "mcpServers.web.heders",
    says: /did you mean "headers"/,
  },
  {
    name: "plain http to a remote host is refused, without echoing the URL",
    config: (canary) => ({
      mcpServers: { web: { url: `http://mcp.example.com/mcp?t=${canary}` } },
    }),
    path: "mcpServers.web.url",
    says: /allowInsecureHttp/,
  },
  {
    name: "CR/LF in a header value is refused, without echoing the value",
    config: (canary) => ({
      mcpServers: { web: { url: REMOTE, headers: { "X-Team": `core\r\nX-Injected: ${canary}` } } },
    }),
    path: "mcpServers.web.headers.X-Team",
    says: /CR, LF/,
  },
  {
    name: "an unset variable names the variable and the server",
    config: () => ({ mcpServers: { web: { url: "https://${TS_FAULT_UNSET_HOST}/mcp" } } }),
    path: "mcpServers.web.url",
    says: /"TS_FAULT_UNSET_HOST" is not set \(used by server "web"\)/,
  },
  {
    name: "an auth keyEnv naming an unset variable is refused",
    config: () => ({
      mcpServers: { web: { url: REMOTE, auth: { type: "api_key", keyEnv: "TS_FAULT_NO_KEY" } } },
    }),
    path: "mcpServers.web.auth.keyEnv",
    says: /"TS_FAULT_NO_KEY".*not set/,
  },
  {
    name: "an unknown auth type lists the known ones",
    config: (canary) => ({
      mcpServers: { web: { url: REMOTE, auth: { type: "magic", token: canary } } },
    }),
    path: "mcpServers.web.auth.type",
    says: /one of "oauth"/,
  },
  {
    name: "two sources for one secret are refused",
    config: (canary) => ({
      mcpServers: {
        web: { url: REMOTE, auth: { type: "api_key", key: canary, keyFile: "/run/key" } },
      },
    }),
    path: "mcpServers.web.auth.keyFile",
    says: /only one of/,
  },
  {
    name: "a bad value next to an expanded secret does not reveal the secret",
    config: () => ({
      mcpServers: {
        web: {
          url: REMOTE,
          headers: { Authorization: "Bearer ${TS_FAULT_TOKEN}" },
          timeout: "soon",
        },
      },
    }),
    env: (canary) => ({ TS_FAULT_TOKEN: canary }),
    path: "mcpServers.web.timeout",
    says: /Expected "timeout" to be a number/,
  },
  {
    name: "a gateway port out of range is refused",
    config: () => ({ gateway: { port: 70000 }, mcpServers: {} }),
    path: "gateway.port",
    says: /<= 65535/,
  },
  {
    name: "auth on a stdio server is refused with the alternative",
    config: (canary) => ({
      mcpServers: { local: { command: "run", auth: { type: "bearer", token: canary } } },
    }),
    path: "mcpServers.local.auth",
    says: /through "env"/,
  },
];

/** How many CLI processes the table runs at once. */
const PARALLEL_RUNS = 4;

/**
 * Runs `fn` over every item, at most `limit` at a time; when all have finished, rejects with
 * the failures (so no run outlives the test).
 */
async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (next < items.length) await fn(items[next++]).catch((error) => failures.push(error));
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} cases failed`);
}

/** Captures a CLI run in the log. */
function captured(log: FaultLog, label: string, result: CliResult): CliResult {
  log.capture(`config: ${label}: stdout`, result.stdout);
  log.capture(`config: ${label}: stderr`, result.stderr);
  return result;
}

/** Runs `servers --config <file>` on each invalid config, a few at a time. */
async function runInvalidConfigTable({ dir, log }: ConfigBench): Promise<void> {
  await inBatches(
    INVALID_CONFIGS.map((c, i) => ({ ...c, i })),
    PARALLEL_RUNS,
    (c) =>
      log.fault(`config: ${c.name}`, async () => {
        const canary = log.canary("config");
        const content = c.config(canary);
        const file = join(dir, `invalid-${c.i}.json`);
        if (typeof content === "string") await Deno.writeTextFile(file, content);
        else await writeConfig(dir, content, `invalid-${c.i}.json`);
        const result = captured(
          log,
          c.name,
          await runCli(["servers", "--config", file], { env: c.env?.(canary) }),
        );
        const where = `${c.name}:\n${result.stderr}`;
        assert.equal(result.code, 2, where);
        assert.equal(result.stdout, "", where);
        assert.match(result.stderr, /^error: /, where);
        assert.ok(result.stderr.includes(file), `names the file; ${where}`);
        if (c.path) assert.ok(result.stderr.includes(`: ${c.path}: `), `names ${c.path}; ${where}`);
        assert.match(result.stderr, c.says, where);
      }),
  );
}

/** Writes a config whose `web` server reads its API key from `keyFile`. */
function writeKeyFileConfig(bench: ConfigBench, name: string, keyFile: string): Promise<string> {
  return writeConfig(bench.dir, {
    mcpServers: { web: { type: "http", url: bench.web.url, auth: { type: "api_key", keyFile } } },
  }, `${name}.json`);
}

/** Makes a secret file the CLI cannot read: mode 000, or a directory when running as root. */
async function unreadableSecret(dir: string): Promise<string> {
  const path = join(dir, "unreadable.key");
  if (Deno.uid() === 0) {
    await Deno.mkdir(path); // root reads any file; a directory still cannot be read as one
  } else {
    await Deno.writeTextFile(path, "never-read\n", { mode: 0o000 });
  }
  return path;
}

/** Calls `web__echo` through the CLI with the secret in `keyFile`. */
async function callWithKeyFile(bench: ConfigBench, label: string, keyFile: string) {
  const config = await writeKeyFileConfig(bench, label.replaceAll(" ", "-"), keyFile);
  const result = await runCli(["call", "web", "echo", '{"text":"hi"}', "--config", config]);
  return captured(bench.log, label, result);
}

/** The config fault cases, in order. */
export const CONFIG_FAULTS: FaultCase<ConfigBench>[] = [
  {
    name: "each invalid config in a representative table exits 2 naming file and JSON path",
    recordsOwnFaults: true,
    run: runInvalidConfigTable,
  },
  {
    name: "a missing --config file exits 2 naming the file",
    async run({ dir, log }) {
      const file = join(dir, "does-not-exist.json");
      const result = captured(log, "missing file", await runCli(["servers", "--config", file]));
      assert.equal(result.code, 2, result.stderr);
      assert.ok(result.stderr.includes(file), result.stderr);
    },
  },
  {
    name: "a missing secret file fails the call naming the file",
    async run(bench) {
      const keyFile = join(bench.dir, "missing.key");
      const result = await callWithKeyFile(bench, "missing key", keyFile);
      assert.notEqual(result.code, 0, result.stdout);
      assert.ok(result.stdout.includes(keyFile), result.stdout);
      assert.match(result.stdout, /does not exist/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    },
  },
  {
    name: "an unreadable secret file fails the call naming the file",
    async run(bench) {
      const keyFile = await unreadableSecret(bench.dir);
      const result = await callWithKeyFile(bench, "unreadable key", keyFile);
      assert.notEqual(result.code, 0, result.stdout);
      assert.ok(result.stdout.includes(keyFile), result.stdout);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    },
  },
  {
    name: "a missing secret file exits 2 naming the server and the JSON path",
    async run(bench) {
      const keyFile = join(bench.dir, "missing.key");
      const result = await callWithKeyFile(bench, "missing key exit 2", keyFile);
      const output = result.stdout + result.stderr;
      assert.equal(result.code, 2, output);
      assert.match(output, /server "web"/);
      assert.ok(output.includes("mcpServers.web.auth.keyFile"), output);
    },
  },
  {
    name: "a secret file others can read is used, with a warning that names only the file",
    async run(bench) {
      const secret = bench.log.canary("keyfile");
      const keyFile = join(bench.dir, "open.key");
      await Deno.writeTextFile(keyFile, `${secret}\n`);
      await Deno.chmod(keyFile, 0o644);
      const result = await callWithKeyFile(bench, "world-readable key", keyFile);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /echo: hi/);
      assert.match(result.stderr, /readable by other users/);
      assert.ok(result.stderr.includes(keyFile), result.stderr);
      const sent = bench.web.requests.map((r) => r.headers["x-api-key"]);
      assert.ok(sent.includes(secret), "the key was sent to the server");
    },
  },
];
