/**
 * Issue 16 follow-up 3: a saved change of the top-level `store` block cannot apply to a running
 * gateway. The gateway (main.ts, spawned) logs that the change needs a restart, keeps the store
 * it runs on (it never connects to the new one) and applies the rest of the change.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { makeScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import { pidServerCommand } from "../fixtures/pid_server.ts";

const CANARY = "redis-password-canary-5e1f";

Deno.test("a changed store block is logged as needing a restart, the running store stays, the rest applies", async () => {
  await using dir = await makeScratchDir();
  // Stands where the new store's Redis would be: any connection to it is counted.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      conn.close();
    }
  })().catch(() => {});
  const keyFile = join(dir.path, "store.key");
  await Deno.writeTextFile(keyFile, btoa(String.fromCharCode(...new Uint8Array(32))));
  await Deno.chmod(keyFile, 0o600);
  const alpha = pidServerCommand(["--name", "alpha"]);
  const beta = pidServerCommand(["--name", "beta"]);
  const gamma = pidServerCommand(["--name", "gamma"]);
  const file = await writeConfig(dir, { mcpServers: { alpha } });
  const process = spawnCli(["gateway", "--port", "0", "--config", file], { home: dir.path });
  await using _process = process;
  const url =
    (await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, { timeoutMs: 90_000 }))[1];
  const client = new Client({ name: "store-reload-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    const redisUrl = `redis://:${CANARY}@127.0.0.1:${(listener.addr as Deno.NetAddr).port}/0`;
    await writeConfig(dir, {
      store: { type: "redis", url: redisUrl, encryptionKeyFile: keyFile },
      mcpServers: { alpha, beta },
    });
    await process.waitForLine(/config change of store applies only after a restart/, {
      stream: "stderr",
    });
    await process.waitForLine(/config reloaded .*"added":\["beta"\]/, { stream: "stderr" });
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.some((n) => n.startsWith("beta__")), String(tools));

    // The edit undone (and another server added): the running store is the file's again.
    await writeConfig(dir, { mcpServers: { alpha, beta, gamma } });
    await process.waitForLine(/config reloaded .*"added":\["gamma"\]/, { stream: "stderr" });
    const restarts = process.stderr().split("\n").filter((l) =>
      /applies only after a restart/.test(l)
    );
    assert.equal(restarts.length, 1, restarts.join("\n"));
    assert.equal(connections, 0, "the gateway never connected to the new store");
    assert.ok(!process.stderr().includes(CANARY), "the store URL's password is never logged");
    assert.ok(!process.stdout().includes(CANARY));
  } finally {
    await client.close();
    listener.close();
    await accepting;
  }
});
