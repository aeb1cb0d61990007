/**
 * Drives a real `toolscript gateway` process for the fault specs: starts it on a config, and
 * connects an SDK client that sends the gateway token. Every tool result and the process output
 * go to the {@link FaultLog} for the leak search.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CliProcess, spawnCli } from "../_helpers.ts";
import type { FaultLog } from "./_fault_log.ts";

/** The parts of a tool result the specs read. */
export interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
}

/** A gateway process plus one connected client. `await using` closes both. */
export interface GatewayUnderTest extends AsyncDisposable {
  readonly process: CliProcess;
  /** `http://127.0.0.1:PORT/mcp`. */
  readonly url: string;
  readonly client: Client;
  /** Authorization header value for raw requests. */
  readonly authorization: string;
  /** Calls a namespaced tool and captures the result (or the thrown error) in the log. */
  call(name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  /** Calls a tool and asserts it answers `echo: <text>` without error. */
  assertEchoes(name: string, text?: string): Promise<void>;
  /**
   * Asserts `name` answers again after its server died: at once, or once the gateway's
   * background reconnect has brought the server back (polls `/health`, bounded).
   */
  assertRecovers(name: string): Promise<void>;
  /** Asserts the process is still running. */
  assertAlive(): Promise<void>;
  /** Closes the client, stops the gateway with SIGTERM and returns how it exited. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  configPath: string;
  /** `TOOLSCRIPT_HOME`. */
  home: string;
  /** `TOOLSCRIPT_GATEWAY_TOKEN`. */
  gatewayToken: string;
  log: FaultLog;
  /** A label for captures, e.g. `upstream bench`. */
  label: string;
  /** More environment for the gateway process. */
  env?: Record<string, string>;
}

/** Joins the text blocks of a tool result. */
export function textOf(result: ToolResult): string {
  return result.content.map((block) => block.text ?? "").join("");
}

/** Starts `toolscript gateway --port 0` at debug level and connects a client. */
export async function startGateway(options: StartGatewayOptions): Promise<GatewayUnderTest> {
  const { log, label } = options;
  const process = spawnCli(["gateway", "--config", options.configPath, "--port", "0"], {
    home: options.home,
    env: {
      ...options.env,
      TOOLSCRIPT_GATEWAY_TOKEN: options.gatewayToken,
      TOOLSCRIPT_LOG: "debug",
    },
  });
  const captureOutput = () => {
    log.capture(`${label}: gateway stdout`, process.stdout());
    log.capture(`${label}: gateway stderr`, process.stderr());
  };
  const authorization = `Bearer ${options.gatewayToken}`;
  const client = new Client({ name: "fault-spec", version: "1.0.0" });
  let url: string;
  try {
    [, url] = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization } },
      }),
    );
  } catch (error) {
    await client.close().catch(() => {});
    await process[Symbol.asyncDispose]();
    captureOutput();
    throw error;
  }

  const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => {
    try {
      const result = await client.callTool({ name, arguments: args }) as ToolResult;
      log.capture(`${label}: result of ${name}`, result);
      return result;
    } catch (error) {
      log.capture(`${label}: error of ${name}`, String(error));
      throw error;
    }
  };

  let stopping: Promise<Deno.CommandStatus> | undefined;
  const stop = (): Promise<Deno.CommandStatus> => {
    stopping ??= (async () => {
      await client.close().catch(() => {});
      await process[Symbol.asyncDispose](); // SIGTERM, SIGKILL after 5 s
      captureOutput();
      return await process.status;
    })();
    return stopping;
  };

  return {
    process,
    url,
    client,
    authorization,
    call,
    async assertEchoes(name: string, text = "still here") {
      const result = await call(name, { text });
      assert.equal(result.isError, undefined, `${name} failed: ${textOf(result)}`);
      assert.equal(textOf(result), `echo: ${text}`);
    },
    async assertRecovers(name: string) {
      const first = await call(name, { text: "back" });
      if (!first.isError) return;
      const server = name.slice(0, name.indexOf("__"));
      await waitForHealthy(
        url,
        authorization,
        server,
        (text) => log.capture(`${label}: health`, text),
      );
      const second = await call(name, { text: "back" });
      assert.equal(second.isError, undefined, `${name} failed again: ${textOf(second)}`);
    },
    async assertAlive() {
      const exited = await Promise.race([process.status, Promise.resolve(undefined)]);
      assert.equal(exited, undefined, `the gateway exited:\n${process.stderr()}`);
    },
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

const RECOVERY_TIMEOUT_MS = 10_000;
const HEALTH_POLL_MS = 100;

/** Polls `/health` until `server` is `ok`; rejects after {@link RECOVERY_TIMEOUT_MS}. */
async function waitForHealthy(
  url: string,
  authorization: string,
  server: string,
  capture: (text: string) => void,
): Promise<void> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    const response = await fetch(url.replace(/\/mcp$/, "/health"), { headers: { authorization } });
    const text = await response.text();
    capture(text);
    const health = JSON.parse(text) as { servers: { name: string; state: string }[] };
    last = health.servers.find((s) => s.name === server)?.state ?? "missing";
    if (last === "ok") return;
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  throw new Error(`server "${server}" did not come back within ${RECOVERY_TIMEOUT_MS} ms: ${last}`);
}
