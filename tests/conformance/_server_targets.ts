/**
 * The two servers `deno task conformance` runs the suite's server scenarios against: the
 * conformance fixture itself (tests/fixtures/conformance_server.ts, in-process over streamable
 * HTTP), and toolscript's gateway (`main.ts gateway --port 0`, a real subprocess) in front of
 * that fixture with `"prefix": ""`, so the gateway should be indistinguishable from it.
 */
import { join } from "node:path";
import { makeScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import {
  conformanceServerCommand,
  startConformanceHttpServer,
} from "../fixtures/conformance_server.ts";

/** How the gateway reaches the fixture. */
export type Upstream = "http" | "stdio";

/** A server under test. `await using` stops it. */
export interface ServerTarget extends AsyncDisposable {
  /** The MCP endpoint; undefined when the server could not be started. */
  readonly url?: string;
  /** Why it could not be started (the last lines of its stderr). */
  readonly startError?: string;
  /** Everything the server wrote to stderr so far (the gateway's log; empty in-process). */
  stderr(): string;
}

/** The server name of the fixture in the gateway's config. */
export const GATEWAY_SERVER_NAME = "conformance";

/** Starts the fixture over streamable HTTP in this process. */
export async function startFixtureTarget(): Promise<ServerTarget> {
  const server = await startConformanceHttpServer();
  return { url: server.url, stderr: () => "", [Symbol.asyncDispose]: () => server.close() };
}

/** Options of {@link startGatewayTarget}. */
export interface GatewayTargetOptions {
  upstream: Upstream;
  /** The fixture's URL, for an `http` upstream. */
  fixtureUrl?: string;
  /** How long the gateway may take to print its URL. */
  startTimeoutMs: number;
}

/**
 * The gateway config the scenarios run through: the fixture as the only server, its names
 * unchanged (`"prefix": ""`).
 */
export function gatewayConfig(options: Pick<GatewayTargetOptions, "upstream" | "fixtureUrl">) {
  const server = options.upstream === "stdio"
    ? { type: "stdio", ...conformanceServerCommand(["--stdio"]) }
    : { type: "http", url: options.fixtureUrl };
  return { mcpServers: { [GATEWAY_SERVER_NAME]: { ...server, prefix: "" } } };
}

/**
 * Starts `main.ts gateway --port 0 --config <scratch>/toolscript.json` with its own
 * `TOOLSCRIPT_HOME`, and waits for its `TOOLSCRIPT_GATEWAY_URL=` line. A gateway that exits
 * first (a config it refuses, say) gives a target with `startError` and no URL.
 */
export async function startGatewayTarget(options: GatewayTargetOptions): Promise<ServerTarget> {
  const scratch = await makeScratchDir();
  const configPath = await writeConfig(scratch, gatewayConfig(options));
  const gateway = spawnCli(["gateway", "--port", "0", "--config", configPath], {
    home: join(scratch.path, "home"),
  });
  const stop = async () => {
    await gateway[Symbol.asyncDispose]();
    await scratch[Symbol.asyncDispose]();
  };
  try {
    const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, {
      timeoutMs: options.startTimeoutMs,
    });
    return { url, stderr: () => gateway.stderr(), [Symbol.asyncDispose]: stop };
  } catch {
    await stop(); // waits for the gateway's output to end
    const lines = gateway.stderr().split("\n").map((l) => l.trimEnd()).filter(Boolean);
    const startError = `the gateway did not start: ${lines.slice(-5).join(" | ") || "no output"}`;
    return { startError, stderr: () => lines.join("\n"), [Symbol.asyncDispose]: async () => {} };
  }
}
