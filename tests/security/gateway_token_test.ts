/**
 * Issue 12 item 13: `TOOLSCRIPT_GATEWAY_TOKEN=""` used to turn gateway authentication off
 * silently (`|| undefined`). Set but empty is now refused, exit 2, before anything starts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, makeScratchDir, runCli, spawnCli, writeConfig } from "../_helpers.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

/** A stdio server that leaves `marker` behind if the CLI ever starts it. */
function markerServer(marker: string) {
  return { command: "sh", args: ["-c", `touch '${marker}'; exec sleep 30`] };
}

for (const empty of ["", "  "]) {
  Deno.test(`gateway refuses TOOLSCRIPT_GATEWAY_TOKEN=${JSON.stringify(empty)} with exit 2 and starts nothing`, async () => {
    await using dir = await makeScratchDir();
    const marker = join(dir.path, "spawned");
    const config = await writeConfig(dir, { mcpServers: { probe: markerServer(marker) } });
    for (const args of [["--port", "0"], ["--stdio"]]) {
      const result = await runCli(["gateway", "--config", config, ...args], {
        home: dir,
        env: { TOOLSCRIPT_GATEWAY_TOKEN: empty },
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^error: TOOLSCRIPT_GATEWAY_TOKEN is set but empty/m);
      assert.match(result.stderr, /^fix: .*TOOLSCRIPT_GATEWAY_TOKEN/m);
      assert.doesNotMatch(result.stderr, /\[redacted/, "the fix must stay readable");
      assert.doesNotMatch(result.stdout, /TOOLSCRIPT_GATEWAY_URL=/);
    }
    assert.equal(await exists(marker), false, "a server was started");
  });
}

Deno.test("exec, types and search refuse an empty TOOLSCRIPT_GATEWAY_TOKEN and never reach the gateway", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: {} });
  // Stands in for a running gateway: it must see no connection at all.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      conn.close();
    }
  })().catch(() => {});
  const env = {
    TOOLSCRIPT_GATEWAY_URL: `http://127.0.0.1:${listener.addr.port}/mcp`,
    TOOLSCRIPT_GATEWAY_TOKEN: "",
  };
  for (const args of [["exec", "console.log(1)"], ["types"], ["search", "echo"]]) {
    const result = await runCli([...args, "--config", config], { home: dir, env });
    assert.equal(result.code, 2, `${args[0]}: ${result.stderr}`);
    assert.match(result.stderr, /^error: TOOLSCRIPT_GATEWAY_TOKEN is set but empty/m);
    assert.match(result.stderr, /^fix: /m);
  }
  assert.equal(connections, 0);
  listener.close();
  await accepting;
});

Deno.test("a non-empty gateway token is required by the gateway and usable by types; it never reaches a log", async () => {
  await using dir = await makeScratchDir();
  const token = `canary-gateway-token-${crypto.randomUUID()}`;
  const config = await writeConfig(dir, {
    mcpServers: { local: stdioServerCommand() },
  });
  await using gateway = spawnCli(["gateway", "--config", config, "--port", "0"], {
    home: dir,
    env: { TOOLSCRIPT_GATEWAY_TOKEN: token, TOOLSCRIPT_LOG: "debug" },
  });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  const health = new URL("/health", url);
  const anonymous = await fetch(health);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
  const authorized = await fetch(health, { headers: { authorization: `Bearer ${token}` } });
  await authorized.body?.cancel();
  assert.equal(authorized.status, 200);
  const types = await runCli(["types"], {
    home: dir,
    env: { TOOLSCRIPT_GATEWAY_URL: url, TOOLSCRIPT_GATEWAY_TOKEN: token, TOOLSCRIPT_LOG: "debug" },
  });
  assert.equal(types.code, 0, types.stderr);
  assert.match(types.stdout, /echo/);
  assert.ok(!types.stdout.includes(token) && !types.stderr.includes(token));
  gateway.kill("SIGTERM");
  await gateway.status;
  assert.ok(!gateway.stderr().includes(token) && !gateway.stdout().includes(token));
});
