/**
 * Issue 18 item 1: the gateway watches its config file. A running gateway (main.ts, spawned)
 * with an SDK client connected; the config is edited the way people and editors do it (written
 * in place, written beside and renamed over, touched) and the client's tool list follows, told
 * by `notifications/tools/list_changed`. Stdio servers are the pid fixture, so a spec can see
 * which child serves a server, and that a removed one is gone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import {
  cliEnv,
  type CliProcess,
  exists,
  MAIN_TS,
  makeScratchDir,
  REPO_ROOT,
  runCli,
  spawnCli,
  writeConfig,
} from "../_helpers.ts";
import { HOLD_STARTED, pidServerCommand } from "../fixtures/pid_server.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
}

function textOf(result: unknown): string {
  return (result as ToolResult).content.map((c) => c.text ?? "").join("");
}

/** A stdio server entry running the pid fixture under `name`. */
function pidServer(name: string): { command: string; args: string[] } {
  return pidServerCommand(["--name", name]);
}

/** An SDK client that counts `tools/list_changed` and can wait for the tool list to follow. */
interface WatchingClient extends AsyncDisposable {
  client: Client;
  /** How many `tools/list_changed` notifications arrived so far. */
  changes(): number;
  /** How many `prompts/list_changed` and `resources/list_changed` arrived so far. */
  otherChanges(): number;
  /**
   * Resolves with the tool names once they satisfy `ready`, looking again after each
   * `tools/list_changed`; rejects after `timeoutMs` (default 60 s) or 100 looks.
   */
  toolsWhen(ready: (names: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
}

function watchTools(client: Client): Omit<WatchingClient, typeof Symbol.asyncDispose> {
  let changes = 0;
  let otherChanges = 0;
  let wake: (() => void) | undefined;
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => void otherChanges++);
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void otherChanges++);
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes++;
    wake?.();
  });
  async function toolsWhen(ready: (names: string[]) => boolean, timeoutMs = 60_000) {
    const deadline = AbortSignal.timeout(timeoutMs);
    let names: string[] = [];
    for (let look = 0; look < 100; look++) {
      const seen = changes;
      names = (await client.listTools()).tools.map((t) => t.name);
      if (ready(names)) return names;
      if (changes === seen) {
        const { promise, resolve, reject } = Promise.withResolvers<void>();
        wake = resolve;
        const onTimeout = () => reject(new Error(`tool list never got ready: ${names}`));
        deadline.addEventListener("abort", onTimeout, { once: true });
        try {
          await promise;
        } finally {
          deadline.removeEventListener("abort", onTimeout);
          wake = undefined;
        }
      }
    }
    throw new Error(`tool list never got ready after 100 looks: ${names}`);
  }
  return { client, changes: () => changes, otherChanges: () => otherChanges, toolsWhen };
}

async function connectHttp(url: string): Promise<WatchingClient> {
  const client = new Client({ name: "reload-spec", version: "1.0.0" });
  const watching = watchTools(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return { ...watching, [Symbol.asyncDispose]: () => client.close() };
}

async function startGateway(
  args: string[],
  options: { home: string; cwd?: string; env?: Record<string, string> },
): Promise<{ process: CliProcess; url: string }> {
  const process = spawnCli(["gateway", "--port", "0", ...args], {
    home: options.home,
    cwd: options.cwd,
    // Debug: the children's stderr lines (the pid fixture's `hold started`) are logged.
    env: { TOOLSCRIPT_LOG: "debug", ...options.env },
  });
  const match = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, { timeoutMs: 90_000 });
  return { process, url: match[1] };
}

/** A pattern that matches only the `n`th line (1-based) that `pattern` matches. */
function nth(pattern: RegExp, n: number): RegExp {
  let seen = 0;
  const counting = new RegExp(pattern.source, pattern.flags);
  Object.defineProperty(counting, Symbol.match, {
    value: (text: string) => {
      const match = text.match(pattern);
      return match && ++seen === n ? match : null;
    },
  });
  return counting;
}

/** The pid a server's `pid` tool reports. */
async function pidOf(client: Client, server: string): Promise<number> {
  return Number(textOf(await client.callTool({ name: `${server}__pid`, arguments: {} })));
}

async function isRunning(pid: number): Promise<boolean> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return !/^State:\s+Z/m.test(status); // a zombie has exited
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Writes `config` beside the file and renames it over, as vim and VS Code save. */
async function saveByRename(file: string, config: object): Promise<void> {
  const temp = `${file}.swp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(temp, JSON.stringify(config, null, 2));
  await Deno.rename(temp, file);
}

const RELOADED = /config reloaded/;
/** A secret the new config carries; it must never reach the gateway's (debug) log. */
const CANARY = "canary-reload-5d2e9b7a41";

Deno.test("written config edits apply live: added servers connect, changed ones reconnect, removed ones stop, unchanged ones stay", async () => {
  await using dir = await makeScratchDir();
  const alpha = pidServer("alpha");
  const file = await writeConfig(dir, { mcpServers: { alpha } });
  const { process, url } = await startGateway(["--config", file], {
    home: dir.path,
    env: { SPEC_BETA_NAME: "beta", SPEC_CANARY: CANARY },
  });
  await using _process = process;
  await using watching = await connectHttp(url);
  const { client } = watching;
  const alphaPid = await pidOf(client, "alpha");

  // `${VAR}` in the new text expands from the gateway's environment.
  await writeConfig(dir, {
    mcpServers: {
      alpha,
      beta: { ...pidServer("${SPEC_BETA_NAME}"), env: { API_TOKEN: "${SPEC_CANARY}" } },
    },
  });
  await watching.toolsWhen((names) => names.includes("beta__pid"));
  assert.ok(watching.changes() >= 1, "the client was told");
  const betaPid = await pidOf(client, "beta");
  assert.equal(
    textOf(await client.callTool({ name: "beta__echo", arguments: { text: "hi" } })),
    "beta: hi",
  );

  // beta changes (another --name), and host too: that part needs a restart, the rest applies.
  await writeConfig(dir, {
    gateway: { host: "localhost" },
    mcpServers: { alpha, beta: pidServer("beta-2") },
  });
  await process.waitForLine(/gateway\.host applies only after a restart/, { stream: "stderr" });
  await process.waitForLine(/config reloaded .*"changed":\["beta"\]/, { stream: "stderr" });
  assert.equal(
    textOf(await client.callTool({ name: "beta__echo", arguments: { text: "hi" } })),
    "beta-2: hi",
  );
  assert.notEqual(await pidOf(client, "beta"), betaPid, "beta was reconnected");
  assert.equal(await isRunning(betaPid), false, "beta's old child was stopped");
  assert.equal(await pidOf(client, "alpha"), alphaPid, "alpha was left alone");

  const newBetaPid = await pidOf(client, "beta");
  await writeConfig(dir, { gateway: { host: "localhost" }, mcpServers: { alpha } });
  const names = await watching.toolsWhen((names) => !names.some((n) => n.startsWith("beta__")));
  assert.ok(names.includes("alpha__pid"), String(names));
  await process.waitForLine(/config reloaded .*"removed":\["beta"\]/, { stream: "stderr" });
  assert.equal(await isRunning(newBetaPid), false, "the removed server's child is gone");
  assert.equal(await pidOf(client, "alpha"), alphaPid, "alpha was left alone");
  const origin = url.replace(/\/mcp$/, "");
  const health = await (await fetch(`${origin}/health`)).json();
  assert.deepEqual(health.servers.map((s: { name: string }) => s.name), ["alpha"]);
  const metrics = await (await fetch(`${origin}/metrics`)).text();
  assert.match(metrics, /toolscript_upstream_up\{server="alpha"\} 1/);
  assert.doesNotMatch(metrics, /toolscript_upstream_up\{server="beta"\}/);
  // No server here offers prompts or resources: those lists never changed, so no word of them.
  assert.equal(watching.otherChanges(), 0);
  assert.ok(!process.stderr().includes(CANARY), "no secret of the new config in the log");
});

Deno.test("editors that save by rename are followed, and a save without a change does nothing", async () => {
  await using dir = await makeScratchDir();
  const alpha = pidServer("alpha");
  const file = await writeConfig(dir, { mcpServers: { alpha } });
  const { process, url } = await startGateway(["--config", file], { home: dir.path });
  await using _process = process;
  await using watching = await connectHttp(url);
  const { client } = watching;
  const alphaPid = await pidOf(client, "alpha");

  await using web = await startHttpMcpServer({ name: "web" });
  const webEntry = (team: string) => ({ type: "http", url: web.url, headers: { "X-Team": team } });
  const both = { mcpServers: { alpha, beta: pidServer("beta"), web: webEntry("one") } };
  await saveByRename(file, both);
  await watching.toolsWhen((names) => names.includes("beta__pid") && names.includes("web__echo"));
  assert.match(textOf(await client.callTool({ name: "web__whoami", arguments: {} })), /"one"/);
  await process.waitForLine(nth(RELOADED, 1), { stream: "stderr" });
  const betaPid = await pidOf(client, "beta");

  // The same text saved again (by rename, then in place): nothing reconnects or reloads.
  await saveByRename(file, both);
  await Deno.writeTextFile(file, JSON.stringify(both, null, 2));
  // Then a real change; its reload is the second one, so the saves above made none.
  await saveByRename(file, { mcpServers: { beta: pidServer("beta"), web: webEntry("two") } });
  await watching.toolsWhen((names) => !names.includes("alpha__pid"));
  await process.waitForLine(nth(RELOADED, 2), { stream: "stderr" });
  assert.match(
    process.stderr().split("\n").filter((l) => RELOADED.test(l))[1],
    /"removed":\["alpha"\]/,
  );
  assert.equal(await pidOf(client, "beta"), betaPid, "beta was never reconnected");
  const whoami = textOf(await client.callTool({ name: "web__whoami", arguments: {} }));
  assert.match(whoami, /"two"/, "web reconnected with its new headers");
  assert.equal(await isRunning(alphaPid), false, "alpha's child is gone");
  assert.equal(process.stderr().split("\n").filter((l) => RELOADED.test(l)).length, 2);
});

Deno.test("an invalid edit is logged with the error `servers` prints, and the running config keeps serving", async () => {
  await using dir = await makeScratchDir();
  const alpha = pidServer("alpha");
  const file = await writeConfig(dir, { mcpServers: { alpha } });
  const { process, url } = await startGateway(["--config", file], { home: dir.path });
  await using _process = process;
  await using watching = await connectHttp(url);
  const { client } = watching;
  const alphaPid = await pidOf(client, "alpha");

  const edits = [
    '{ "mcpServers": { "alpha": ',
    JSON.stringify({ mcpServers: { alpha, "bad name!": pidServer("x") } }),
    JSON.stringify({ mcpServers: { alpha: { ...alpha, env: { K: "${TOOLSCRIPT_SPEC_UNSET}" } } } }),
  ];
  for (const [i, text] of edits.entries()) {
    await Deno.writeTextFile(file, text);
    const servers = await runCli(["servers", "--config", file], { home: dir.path });
    assert.equal(servers.code, 2, servers.stderr);
    const error = /^error: (.*)$/m.exec(servers.stderr)![1];
    const { input: line } = await process.waitForLine(nth(/config change not applied/, i + 1), {
      stream: "stderr",
    });
    assert.ok(line!.includes(`the running config stays: ${error}`), `${line}\nvs ${error}`);
    assert.equal(
      textOf(await client.callTool({ name: "alpha__echo", arguments: { text: "still" } })),
      "alpha: still",
    );
  }
  assert.equal(await pidOf(client, "alpha"), alphaPid, "alpha was never touched");

  await writeConfig(dir, { mcpServers: { alpha, beta: pidServer("beta") } });
  await watching.toolsWhen((names) => names.includes("beta__pid"));
  assert.equal(await pidOf(client, "alpha"), alphaPid);
});

Deno.test("a call in flight to a removed server ends with a JSON-RPC error naming it, and its child stops", async () => {
  await using dir = await makeScratchDir();
  const alpha = pidServer("alpha");
  const file = await writeConfig(dir, { mcpServers: { alpha, beta: pidServer("beta") } });
  const { process, url } = await startGateway(["--config", file], { home: dir.path });
  await using _process = process;
  await using watching = await connectHttp(url);
  const { client } = watching;
  const betaPid = await pidOf(client, "beta");

  const held = client.callTool({ name: "beta__hold", arguments: {} }, undefined, {
    timeout: 120_000,
  }).then(() => undefined, (error: unknown) => error);
  await process.waitForLine(new RegExp(`server "beta" stderr: ${HOLD_STARTED}`), {
    stream: "stderr",
  });
  await writeConfig(dir, { mcpServers: { alpha } });
  const error = await held;
  assert.ok(error instanceof McpError, `a JSON-RPC error, got ${error}`);
  assert.match(error.message, /Server "beta" is no longer available: it was removed/);
  await process.waitForLine(RELOADED, { stream: "stderr" });
  assert.equal(await isRunning(betaPid), false, "beta's child was stopped");
  await assert.rejects(
    client.callTool({ name: "beta__echo", arguments: { text: "x" } }),
    (e: unknown) => e instanceof McpError && /Unknown tool "beta__echo"/.test(e.message),
  );
});

Deno.test("attack: an edit of a trusted project config is refused until trusted again, and spawns nothing", async () => {
  await using dir = await makeScratchDir();
  const repo = join(dir.path, "repo");
  const home = join(dir.path, "home");
  await Deno.mkdir(repo);
  const alpha = pidServer("alpha");
  const file = await writeConfig(repo, { mcpServers: { alpha } }, ".toolscript.json");
  // `./.toolscript.json` comes before any user config in the lookup.
  const user = { cwd: repo, home };
  const trusted = await runCli(["trust"], user);
  assert.equal(trusted.code, 0, trusted.stderr);
  const process = spawnCli(["gateway", "--port", "0"], user);
  await using _process = process;
  const [, url] = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, {
    timeoutMs: 90_000,
  });
  await using watching = await connectHttp(url);
  await watching.toolsWhen((names) => names.includes("alpha__pid"));

  // A checkout or a malicious commit rewrites the project config while the gateway runs.
  const marker = join(dir.path, "pwned");
  await writeConfig(repo, {
    mcpServers: { alpha, evil: { command: "sh", args: ["-c", `touch '${marker}'`] } },
  }, ".toolscript.json");
  const { input: refusal = "" } = await process.waitForLine(/config change not applied/, {
    stream: "stderr",
  });
  assert.match(refusal, /Project config changed since it was trusted/);
  assert.ok(refusal.includes(`"fix":"toolscript trust ${file}"`), refusal);
  assert.equal(await exists(marker), false, "the edited config's command never ran");
  const names = (await watching.client.listTools()).tools.map((t) => t.name);
  assert.ok(!names.some((n) => n.startsWith("evil__")), String(names));
  assert.ok(names.includes("alpha__pid"), "the trusted config keeps serving");

  // The user reviews a benign edit and trusts it: it applies without another save.
  await writeConfig(repo, { mcpServers: { alpha, beta: pidServer("beta") } }, ".toolscript.json");
  await process.waitForLine(nth(/config change not applied/, 2), { stream: "stderr" });
  const trustedAgain = await runCli(["trust"], user);
  assert.equal(trustedAgain.code, 0, trustedAgain.stderr);
  await watching.toolsWhen((names) => names.includes("beta__pid"));
  assert.equal(await exists(marker), false);
});

Deno.test("`toolscript add` against a running gateway makes the new server's tools appear in a connected client", async () => {
  await using dir = await makeScratchDir();
  const file = await writeConfig(dir, { mcpServers: { alpha: pidServer("alpha") } });
  const { process, url } = await startGateway(["--config", file], { home: dir.path });
  await using _process = process;
  await using watching = await connectHttp(url);
  const memory = pidServer("memory");
  const added = await runCli([
    "add",
    "memory",
    "--config",
    file,
    "--",
    memory.command,
    ...memory.args,
  ], {
    home: dir.path,
  });
  assert.equal(added.code, 0, added.stderr);
  await watching.toolsWhen((names) => names.includes("memory__echo"));
  const echo = await watching.client.callTool({ name: "memory__echo", arguments: { text: "hi" } });
  assert.equal(textOf(echo), "memory: hi");
  const removed = await runCli(["remove", "memory", "--config", file], { home: dir.path });
  assert.equal(removed.code, 0, removed.stderr);
  await watching.toolsWhen((names) => !names.includes("memory__echo"));
});

Deno.test("a --stdio gateway reloads the same way", async () => {
  await using dir = await makeScratchDir();
  const file = await writeConfig(dir, { mcpServers: { alpha: pidServer("alpha") } });
  const client = new Client({ name: "reload-stdio-spec", version: "1.0.0" });
  const watching = watchTools(client);
  await client.connect(
    new StdioClientTransport({
      command: Deno.execPath(),
      args: [
        "run",
        "-A",
        "-q",
        `--lock=${join(REPO_ROOT, "deno.test.lock")}`,
        MAIN_TS,
        "gateway",
        "--stdio",
        "--config",
        file,
      ],
      env: cliEnv({ home: dir.path }),
      cwd: REPO_ROOT,
      stderr: "pipe",
    }),
  );
  try {
    await watching.toolsWhen((names) => names.includes("alpha__pid"));
    await saveByRename(file, { mcpServers: { beta: pidServer("beta") } });
    const names = await watching.toolsWhen((names) =>
      names.includes("beta__pid") && !names.includes("alpha__pid")
    );
    assert.deepEqual(names.sort(), ["beta__echo", "beta__hold", "beta__pid"]);
  } finally {
    await client.close();
  }
});
