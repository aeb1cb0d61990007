/**
 * Upstream faults: one gateway in front of upstreams that crash, hang, print garbage, answer
 * HTTP 5xx, send oversized or cut-off responses, or reflect their secrets in error text. Each
 * case checks the call fails with an error naming the server and what went wrong, and that the
 * gateway answers the next call.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeConfig } from "../_helpers.ts";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../fixtures/http_server.ts";
import { type SseMcpServerHandle, startSseMcpServer } from "../fixtures/sse_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";
import type { FaultCase, FaultLog } from "./_fault_log.ts";
import { BIG_BYTES, FAULT_TOOLS, faultGate } from "./_fault_gate.ts";
import { FAULT_TOKEN_VARIABLE, faultStdioServer } from "./_fault_stdio_server.ts";
import { type GatewayUnderTest, startGateway, textOf, type ToolResult } from "./_gateway_client.ts";

/** Everything the upstream fault cases work with. `await using` stops it all. */
export interface UpstreamBench extends AsyncDisposable {
  gateway: GatewayUnderTest;
  web: HttpMcpServerHandle;
  old: SseMcpServerHandle;
  /** Secrets the `web` upstream is configured with (header and API key file). */
  webSecrets: string[];
}

/** Just over the SDK's 10 MiB limit on one stdio line (more only makes the case slower). */
const STDIO_OVER_LIMIT_BYTES = 11 * 1024 * 1024;

/** Per-server timeout (seconds) of the servers whose faults end in a timeout. */
const SHORT_TIMEOUT_S = 2;

/** Starts the fixtures and a gateway on a config naming all of them. */
export async function openUpstreamBench(dir: string, log: FaultLog): Promise<UpstreamBench> {
  const headerSecret = log.canary("header");
  const keySecret = log.canary("apikey");
  const envSecret = log.canary("env");
  const keyFile = join(dir, "web.key");
  await Deno.writeTextFile(keyFile, `${keySecret}\n`, { mode: 0o600 });
  const web = await startHttpMcpServer({ name: "web", gate: faultGate });
  for (const tool of FAULT_TOOLS) web.addTool(tool);
  const old = await startSseMcpServer({ name: "old" });
  try {
    const configPath = await writeConfig(dir, {
      mcpServers: {
        local: stdioServerCommand(),
        sleepy: { ...stdioServerCommand(), timeout: SHORT_TIMEOUT_S },
        hangs: { ...stdioServerCommand(["--hang-on-start"]), timeout: SHORT_TIMEOUT_S },
        noisy: stdioServerCommand(["--garbage"]),
        huge: { ...faultStdioServer(), env: { [FAULT_TOKEN_VARIABLE]: envSecret } },
        web: {
          type: "http",
          url: web.url,
          headers: { "X-Upstream-Token": headerSecret },
          auth: { type: "api_key", header: "X-API-Key", keyFile },
        },
        // The same fixture with a short timeout, for the answer that never comes.
        webshort: { type: "http", url: web.url, timeout: SHORT_TIMEOUT_S },
        old: { type: "sse", url: old.url },
      },
    });
    const gateway = await startGateway({
      configPath,
      home: dir,
      gatewayToken: log.canary("gateway"),
      log,
      label: "upstream faults",
    });
    return {
      gateway,
      web,
      old,
      webSecrets: [headerSecret, keySecret],
      async [Symbol.asyncDispose]() {
        const status = await gateway.stop();
        await web.close();
        await old.close();
        assert.equal(
          status.code,
          0,
          `the gateway did not stop cleanly:\n${gateway.process.stderr()}`,
        );
      },
    };
  } catch (error) {
    await web.close();
    await old.close();
    throw error;
  }
}

/** Asserts a tool result is an error naming `server` and matching `reason`. */
function assertFailed(result: ToolResult, server: string, reason: RegExp): void {
  const text = textOf(result);
  assert.equal(result.isError, true, `expected an error result, got: ${text.slice(0, 300)}`);
  assert.match(text, new RegExp(`Server "${server}"`), `the error names the server: ${text}`);
  assert.match(text, reason, `the error says what went wrong: ${text}`);
}

/** Sets a fixture's status override for the duration of one call. */
async function withStatus<T>(
  fixture: { setStatusOverride(status: number | undefined): void },
  status: number,
  fn: () => Promise<T>,
): Promise<T> {
  fixture.setStatusOverride(status);
  try {
    return await fn();
  } finally {
    fixture.setStatusOverride(undefined);
  }
}

/** A case for one 5xx status (the fixture's body, passed on in the error, names the status). */
function httpStatusCase(status: number): FaultCase<UpstreamBench> {
  return {
    name: `an HTTP upstream answering ${status} fails the call, and the next call works`,
    async run({ gateway, web }) {
      const result = await withStatus(web, status, () => gateway.call("web__echo", { text: "x" }));
      assertFailed(result, "web", new RegExp(`\\b${status}\\b`));
      await gateway.assertEchoes("web__echo");
    },
  };
}

/** The upstream fault cases, in the order they run (the SSE shutdown case comes last). */
export const UPSTREAM_FAULTS: FaultCase<UpstreamBench>[] = [
  {
    name: "a stdio upstream that crashes mid-call fails the call, and is restarted for the next",
    async run({ gateway }) {
      assertFailed(await gateway.call("local__crash"), "local", /closed|exit|crash/i);
      await gateway.assertRecovers("local__echo");
    },
  },
  {
    name: "a stdio upstream that crashes right after a restart is restarted for the next call",
    async run({ gateway }) {
      assertFailed(await gateway.call("local__crash"), "local", /closed|exit|crash/i);
      await gateway.assertEchoes("local__echo");
      assertFailed(await gateway.call("local__crash"), "local", /closed|exit|crash/i);
      await gateway.assertEchoes("local__echo");
    },
  },
  {
    name: "a stdio upstream that prints its secret on stderr and dies leaks nothing",
    async run({ gateway }) {
      assertFailed(await gateway.call("huge__crash_loudly"), "huge", /closed|exit/i);
      await gateway.assertRecovers("huge__echo");
    },
  },
  {
    name: "a call that hangs past the server's timeout fails as timed out, and the next works",
    async run({ gateway }) {
      const result = await gateway.call("sleepy__slow", { ms: 120_000 });
      assertFailed(result, "sleepy", /tim(ed|e) ?out/i);
      await gateway.assertEchoes("sleepy__echo");
    },
  },
  {
    name: "a server that never answers initialize is reported as timed out",
    async run({ gateway }) {
      assertFailed(await gateway.call("hangs__echo", { text: "x" }), "hangs", /tim(ed|e) ?out/i);
    },
  },
  {
    name: "garbage lines on a stdio upstream's stdout are skipped",
    async run({ gateway }) {
      await gateway.assertEchoes("noisy__echo", "first");
      await gateway.assertEchoes("noisy__echo", "second");
    },
  },
  httpStatusCase(500),
  httpStatusCase(502),
  httpStatusCase(503),
  {
    name: "an HTTP error status is named in the error even when the body does not say it",
    async run({ gateway }) {
      assertFailed(await gateway.call("web__status_502"), "web", /\b502\b/);
      await gateway.assertEchoes("web__echo");
    },
  },
  {
    name: "an HTTP 500 body that repeats the upstream's credentials is redacted",
    async run({ gateway, web, webSecrets }) {
      const sent = JSON.stringify(web.requests.map((r) => r.headers));
      for (const secret of webSecrets) {
        assert.ok(sent.includes(secret), "the upstream received its configured secrets");
      }
      const result = await gateway.call("web__reflect");
      assertFailed(result, "web", /internal error/);
      assert.match(textOf(result), /\[redacted:/, "the reflected secrets are redacted");
      await gateway.assertEchoes("web__echo");
    },
  },
  {
    name: "an SSE upstream answering 503 fails the call, and the next call works",
    async run({ gateway, old }) {
      const result = await withStatus(old, 503, () => gateway.call("old__echo", { text: "x" }));
      assertFailed(result, "old", /\b503\b/);
      await gateway.assertEchoes("old__echo");
    },
  },
  {
    name: "a stdio response over the 10 MiB line limit fails the call, and the next call works",
    async run({ gateway }) {
      const result = await gateway.call("huge__big", { bytes: STDIO_OVER_LIMIT_BYTES });
      assertFailed(result, "huge", /closed/i);
      await gateway.assertRecovers("huge__echo");
    },
  },
  {
    name: "a stdio response over the size limit is reported as too large",
    async run({ gateway }) {
      const result = await gateway.call("huge__big", { bytes: STDIO_OVER_LIMIT_BYTES });
      assertFailed(result, "huge", /too large|exceed|limit/i);
      await gateway.assertEchoes("huge__echo");
    },
  },
  {
    name: "a 20 MiB HTTP response is passed on whole or refused clearly, and the next call works",
    async run({ gateway }) {
      const result = await gateway.call("web__big");
      if (result.isError) assertFailed(result, "web", /too large|exceed|limit/i);
      else assert.equal(textOf(result).length, BIG_BYTES);
      await gateway.assertEchoes("web__echo");
    },
  },
  {
    name: "a stdio upstream that exits halfway through an answer fails the call, and restarts",
    async run({ gateway }) {
      assertFailed(await gateway.call("huge__half"), "huge", /closed|exit/i);
      await gateway.assertRecovers("huge__echo");
    },
  },
  {
    name: "an HTTP event stream that ends before the answer fails the call by the timeout",
    async run({ gateway }) {
      assertFailed(await gateway.call("webshort__sse_cut"), "webshort", /tim(ed|e) ?out/i);
      await gateway.assertEchoes("webshort__echo");
    },
  },
  {
    name: "an HTTP JSON answer cut in half fails the call, and the next call works",
    async run({ gateway }) {
      assertFailed(await gateway.call("web__json_cut"), "web", /JSON|parse|unexpected/i);
      await gateway.assertEchoes("web__echo");
    },
  },
  {
    name: "an HTTP connection that dies mid-body fails the call, and the next call works",
    async run({ gateway }) {
      assertFailed(await gateway.call("web__reset"), "web", /.+/);
      await gateway.assertEchoes("web__echo");
    },
  },
  {
    name: "an HTTP upstream that forgets its sessions is reconnected for the next call",
    async run({ gateway, web }) {
      await web.dropSessions();
      const first = await gateway.call("web__echo", { text: "after restart" });
      if (first.isError) assertFailed(first, "web", /404|session/i);
      await gateway.assertEchoes("web__echo");
    },
  },
  {
    name: "an HTTP upstream that forgets its sessions fails calls with its name",
    async run({ gateway, web }) {
      await web.dropSessions();
      const result = await gateway.call("web__echo", { text: "after restart" });
      if (result.isError) assertFailed(result, "web", /404|session/i);
      await gateway.assertEchoes("local__echo");
    },
  },
  {
    name: "an SSE upstream that goes away fails calls with its name, and the gateway stays up",
    async run({ gateway, old }) {
      await old.close();
      assertFailed(await gateway.call("old__echo", { text: "x" }), "old", /.+/);
      await gateway.assertEchoes("local__echo");
    },
  },
];
