/**
 * The conformance suite's client under test: toolscript, used as a user would. The suite
 * runs `deno run -A tests/conformance/client.ts <server-url>` with `MCP_CONFORMANCE_SCENARIO`
 * and `MCP_CONFORMANCE_CONTEXT` set. This script
 *
 * 1. writes the config a user would write for that server (`_scenario_config.ts`), with the
 *    context's client ID, secret or key in the matching fields, and loads it with `loadConfig`;
 * 2. starts the gateway on it (`createGateway`: the credential providers, token store, 401/403
 *    recovery and refresh are the product's);
 * 3. when the gateway reports that the server needs a login, does what its message says —
 *    runs `toolscript auth` (`loginWithOAuth`), with `--scope` when the message names scopes —
 *    using a "browser" that follows the authorization URL's redirects to the loopback
 *    callback; a user who follows the printed fix gives up after two more attempts;
 * 4. lists the gateway's tools and calls each one (or the calls the context names).
 *
 * Exit 0 when every step worked; 1 otherwise (the reason on stderr). All OAuth behaviour
 * (discovery, registration, PKCE, `iss`, resource, scopes, refresh) is the product's; if a
 * scenario fails, fix the product, not this file.
 */
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/types"
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import {
  createGateway,
  FileTokenStore,
  type Gateway,
  loadConfig,
  Logger,
  loginWithOAuth,
  type RemoteServerConfig,
  ToolscriptError,
} from "../../mod.ts";
import { discoverOAuth } from "../../src/auth/protocol/oauth_discovery.ts";
import { openHeadless } from "./_headless_browser.ts";
import {
  planScenario,
  type ScenarioContext,
  SERVER_NAME,
  usesMachineCredentials,
} from "./_scenario_config.ts";
import { planCalls } from "./_tool_calls.ts";

/** Logins in one run: the first plus two follow-ups of a printed fix. */
const MAX_LOGINS = 3;
/** The whole run; the suite's own client timeout is longer. */
const RUN_TIMEOUT_MS = 15_000;

interface Run {
  scenario: string;
  serverUrl: string;
  context: ScenarioContext;
  logger: Logger;
  signal: AbortSignal;
  scratch: string;
}

async function main(): Promise<number> {
  const serverUrl = Deno.args.at(-1);
  if (!serverUrl) {
    console.error("usage: client.ts <server-url>");
    return 2;
  }
  const logger = new Logger({ level: "debug" });
  const scratch = await Deno.makeTempDir({ prefix: "toolscript-conformance-client-" });
  const run: Run = {
    scenario: Deno.env.get("MCP_CONFORMANCE_SCENARIO") ?? "",
    serverUrl,
    context: JSON.parse(Deno.env.get("MCP_CONFORMANCE_CONTEXT") ?? "{}"),
    logger,
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
    scratch,
  };
  try {
    return await runScenario(run);
  } catch (error) {
    const fix = error instanceof ToolscriptError && error.fix ? ` (fix: ${error.fix})` : "";
    logger.error(`conformance client failed: ${(error as Error)?.message ?? error}${fix}`);
    return 1;
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

async function runScenario(run: Run): Promise<number> {
  const { logger, signal, scratch } = run;
  logger.info("conformance scenario", {
    scenario: run.scenario,
    protocolVersion: Deno.env.get("MCP_CONFORMANCE_PROTOCOL_VERSION"),
  });
  const plan = planScenario({
    scenario: run.scenario,
    serverUrl: run.serverUrl,
    context: run.context,
    ...(usesMachineCredentials(run.scenario) ? await machineInputs(run) : {}),
  });
  const configPath = join(scratch, "toolscript.json");
  await Deno.writeTextFile(configPath, JSON.stringify(plan.config, null, 2));
  const config = await loadConfig({
    flag: configPath,
    env: () => undefined,
    cwd: scratch,
    home: scratch,
    logger,
  });
  const home = join(scratch, "home");
  const store = new FileTokenStore({ dir: join(home, "credentials"), logger });
  const server = config.servers.find((s) => s.name === SERVER_NAME) as RemoteServerConfig;

  let logins = 0;
  /** Follows a printed fix (`toolscript auth conformance [--scope "…"]`) if it is one. */
  const followFix = async (fix: string | undefined): Promise<boolean> => {
    if (plan.login !== "oauth" || !fix?.startsWith(`toolscript auth ${SERVER_NAME}`)) return false;
    if (logins >= MAX_LOGINS) {
      logger.warn("giving up after following the login fix", { logins });
      return false;
    }
    logins++;
    const scopes = /--scope "([^"]*)"/.exec(fix)?.[1]?.split(/\s+/).filter(Boolean);
    logger.info("running the printed fix", { fix });
    await login(server, store, logger, signal, scopes);
    return true;
  };

  await using gateway = createGateway(config, { home, store, logger });
  await gateway.start();
  const upstream = gateway.upstreams.get(SERVER_NAME)!;
  while (upstream.state !== "ok") {
    const failure = upstream.lastFailure;
    const fix = failure instanceof ToolscriptError ? failure.fix : undefined;
    if (upstream.state !== "needs-auth" || !(await followFix(fix))) {
      throw failure ?? new Error(`server is ${upstream.state}: ${upstream.lastError}`);
    }
    await upstream.reconnect();
  }

  const tools = gateway.listTools();
  logger.info("tools listed", { tools: tools.map((t) => t.name) });
  let failed = 0;
  for (const call of planCalls(SERVER_NAME, tools, plan.toolCalls)) {
    const ok = await callTool(gateway, call, logger, followFix, signal);
    if (!ok) failed++;
  }
  return failed === 0 ? 0 : 1;
}

/** Calls one tool; after a login fix printed in the result, logs in and calls again. */
async function callTool(
  gateway: Gateway,
  call: { name: string; arguments: Record<string, unknown> },
  logger: Logger,
  followFix: (fix: string | undefined) => Promise<boolean>,
  signal: AbortSignal,
): Promise<boolean> {
  for (;;) {
    let result;
    try {
      result = await gateway.callTool(call.name, call.arguments, signal);
    } catch (error) {
      // The gateway passes the server's JSON-RPC errors through: the server's answer, which a
      // scenario may give on purpose (a tool it lists but does not implement).
      if (!(error instanceof McpError)) throw error;
      logger.warn("server answered the call with an error", {
        tool: call.name,
        error: error.message,
      });
      return true;
    }
    const text = result.content.map((c) => c.type === "text" ? c.text : "").join(" ");
    if (!result.isError) {
      logger.info("tool called", { tool: call.name, result: text.slice(0, 200) });
      return true;
    }
    logger.warn("tool call failed", { tool: call.name, error: text.slice(0, 500) });
    const fix = /run: (toolscript auth [^;\n]*)/.exec(text)?.[1]?.trim();
    if (!(await followFix(fix))) return false;
  }
}

/** `toolscript auth conformance [--scope …]`, with the headless browser. */
async function login(
  server: RemoteServerConfig,
  store: FileTokenStore,
  logger: Logger,
  signal: AbortSignal,
  scopes?: string[],
): Promise<void> {
  const browsing: Promise<unknown>[] = [];
  try {
    const result = await loginWithOAuth({
      server,
      store,
      logger,
      signal,
      scopes,
      // Any free port: scenarios may run in parallel.
      callbackPorts: [],
      onAuthorizationUrl: (url) => {
        browsing.push(
          openHeadless(url, { signal }).then(
            (page) => logger.debug("browser finished", { status: page.status }),
            (error) => logger.warn("browser failed", { error: String(error) }),
          ),
        );
      },
    });
    logger.info("logged in", { ...result });
  } finally {
    await Promise.all(browsing);
  }
}

/**
 * What a user of a machine-grant server configures besides the context's values: the token
 * endpoint (from the server's authorization server metadata, via our discovery) and, in 0600
 * files, the private_key_jwt key, the workload's projected token (jwt_bearer) or the user's
 * IdP ID token (enterprise_managed).
 */
async function machineInputs(
  run: Run,
): Promise<
  { tokenUrl: string; privateKeyFile?: string; assertionFile?: string; idTokenFile?: string }
> {
  const discovery = await discoverOAuth(run.serverUrl, {
    server: SERVER_NAME,
    logger: run.logger,
    signal: run.signal,
  });
  const tokenUrl = discovery.authorizationServerMetadata.token_endpoint;
  const write = async (key: string, name: string): Promise<string | undefined> => {
    const value = run.context[key];
    if (typeof value !== "string") return undefined;
    const file = join(run.scratch, name);
    await Deno.writeTextFile(file, value, { mode: 0o600 });
    return file;
  };
  return {
    tokenUrl,
    privateKeyFile: await write("private_key_pem", "client_key.pem"),
    assertionFile: await write("valid_jwt", "workload_token.jwt"),
    idTokenFile: await write("idp_id_token", "idp_id_token.jwt"),
  };
}

if (import.meta.main) {
  // A separate program (like main.ts): it exits by itself, also when something hangs past the
  // run's deadline, so the suite never waits on a stray process.
  const watchdog = setTimeout(() => {
    console.error("conformance client: no result within the run's deadline");
    Deno.exit(1);
  }, RUN_TIMEOUT_MS + 2_000);
  Deno.unrefTimer(watchdog);
  Deno.exit(await main());
}
