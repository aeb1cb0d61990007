/**
 * Issue 12 items 1 and 3: half-open connections used to exhaust the gateway's file descriptors;
 * `Deno.serve`'s accept loop then died on EMFILE, the process exited, and another process could
 * listen on the freed port. These specs rerun the flood against a gateway under `ulimit -n`.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { makeScratchDir, writeConfig } from "../_helpers.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";
import { halfOpenFlood, type LimitedGateway, startLimitedGateway } from "./_ulimit_gateway.ts";

/** Lists the tools and calls `local__echo` as an SDK client would, on fresh connections. */
async function useGateway(url: string): Promise<void> {
  const client = new Client({ name: "flood-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    const { tools } = await client.listTools();
    assert.ok(
      tools.some((t) => t.name === "local__echo"),
      JSON.stringify(tools.map((t) => t.name)),
    );
    const result = await client.callTool({
      name: "local__echo",
      arguments: { text: "still here" },
    });
    assert.equal(result.isError ?? false, false);
    assert.match(JSON.stringify(result.content), /still here/);
  } finally {
    await client.close();
  }
}

async function assertHealthy(gateway: LimitedGateway): Promise<void> {
  const health = await fetch(`http://127.0.0.1:${gateway.port}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
}

async function assertAlive(gateway: LimitedGateway): Promise<void> {
  const exited = await Promise.race([gateway.status.then(() => true), Promise.resolve(false)]);
  assert.equal(exited, false, `the gateway exited\nstderr:\n${gateway.stderr()}`);
}

/**
 * Nobody else can listen on the gateway's port, on loopback or the wildcard address. (The
 * gateway does not set SO_REUSEPORT, so `reusePort` listeners are refused too; that option needs
 * `--unstable-net`, which `deno task test` does not pass.)
 */
function assertPortHeld(port: number): void {
  for (
    const options of [
      { hostname: "127.0.0.1", port },
      { hostname: "0.0.0.0", port },
    ]
  ) {
    assert.throws(() => Deno.listen(options), Deno.errors.AddrInUse, JSON.stringify(options));
  }
}

Deno.test("under ulimit -n 1024, 1100 half-open connections neither stop the gateway nor lock out an SDK client", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: { local: stdioServerCommand() } });
  await using gateway = await startLimitedGateway(config, {
    home: dir.path,
    limit: 1024,
    env: { TOOLSCRIPT_GATEWAY_HEADERS_TIMEOUT_MS: "1000" },
  });
  using flood = await halfOpenFlood(gateway.port, 1100);
  // Every connection beyond the cap (at most 512) closed an older half-open one: by now the
  // gateway has accepted them all and holds the rest, half-open.
  await flood.closedAtLeast(flood.size - 512);
  await useGateway(gateway.url);
  await assertHealthy(gateway);
  // The header timeout closes the ones it still held.
  await flood.closedAtLeast(flood.size);
  await useGateway(gateway.url);
  await assertHealthy(gateway);
  assertPortHeld(gateway.port);
  await assertAlive(gateway);
  const stderr = gateway.stderr();
  assert.doesNotMatch(stderr, /panicked|Too many open files|Uncaught/);
  // Logged once per burst, not once per connection.
  const limitLines = stderr.split("\n").filter((line) => line.includes("at its connection limit"));
  assert.ok(limitLines.length >= 1 && limitLines.length < 20, stderr);
});

Deno.test("accept errors (EMFILE under ulimit -n 64) are logged once per burst and survived", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: { local: stdioServerCommand() } });
  await using gateway = await startLimitedGateway(config, {
    home: dir.path,
    limit: 64,
    // A cap the open-file limit cannot honour, so that accepting fails with EMFILE.
    env: {
      TOOLSCRIPT_GATEWAY_MAX_CONNECTIONS: "1000",
      TOOLSCRIPT_GATEWAY_HEADERS_TIMEOUT_MS: "1000",
    },
  });
  {
    using flood = await halfOpenFlood(gateway.port, 100);
    await flood.closedAtLeast(flood.size);
  }
  await useGateway(gateway.url);
  await assertHealthy(gateway);
  assertPortHeld(gateway.port);
  await assertAlive(gateway);
  const stderr = gateway.stderr();
  const failures = stderr.split("\n").filter((line) => line.includes("cannot accept connections"));
  assert.ok(failures.length >= 1 && failures.length < 20, stderr);
  assert.match(stderr, /accepts connections again/);
  assert.doesNotMatch(stderr, /panicked|Uncaught/);
});
