/**
 * Issue 16 follow-up 2: `gateway.callers` follows a config reload. A running gateway (main.ts,
 * spawned) with a caller; the config is edited and the caller's token file rotated, and the
 * endpoint follows at once: an added caller's token is accepted, a rotated token replaces the
 * old one (refused from then on), a removed caller's token is refused and its session closed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import { pidServerCommand } from "../fixtures/pid_server.ts";
import { connectClient } from "../store/_redis_world.ts";

const OWN_TOKEN = "canary-own-gw-41b7";
const ALICE_TOKEN = "canary-alice-gw-0d3e";
const ALICE_ROTATED = "canary-alice-rotated-8f21";
const BOB_TOKEN = "canary-bob-gw-77c9";

/** The status of an `initialize` carrying `token`. */
async function initializeStatus(url: string, token: string): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "caller-reload-spec", version: "1.0.0" },
      },
    }),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("callers follow a reload: added accepted, rotated token replaces the old, removed refused with its session closed", async () => {
  await using dir = await makeScratchDir();
  const aliceFile = join(dir.path, "alice.token");
  await Deno.writeTextFile(aliceFile, ALICE_TOKEN + "\n");
  await Deno.chmod(aliceFile, 0o600);
  const alpha = pidServerCommand(["--name", "alpha"]);
  const alice = { tokenFile: aliceFile };
  const file = await writeConfig(dir, { gateway: { callers: { alice } }, mcpServers: { alpha } });
  const process = spawnCli(["gateway", "--port", "0", "--config", file], {
    home: dir.path,
    env: { TOOLSCRIPT_GATEWAY_TOKEN: OWN_TOKEN },
  });
  await using _process = process;
  const url =
    (await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, { timeoutMs: 90_000 }))[1];
  assert.equal(await initializeStatus(url, ALICE_TOKEN), 200);
  assert.equal(await initializeStatus(url, BOB_TOKEN), 401, "bob is not a caller yet");

  // Added by an edit: bob's token is accepted.
  await writeConfig(dir, {
    gateway: { callers: { alice, bob: { token: BOB_TOKEN } } },
    mcpServers: { alpha },
  });
  await process.waitForLine(/callers reloaded .*"added":\["bob"\]/, { stream: "stderr" });
  const bob = await connectClient(url, BOB_TOKEN);
  try {
    const tools = (await bob.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes("alpha__pid"), String(tools));
    const bobSession = (bob.transport as { sessionId?: string }).sessionId!;
    assert.ok(bobSession);

    // Alice's token file rotated: the new token works, the old is refused.
    await Deno.writeTextFile(aliceFile, ALICE_ROTATED + "\n");
    await process.waitForLine(/callers reloaded .*"changed":\["alice"\]/, { stream: "stderr" });
    assert.equal(await initializeStatus(url, ALICE_ROTATED), 200);
    assert.equal(await initializeStatus(url, ALICE_TOKEN), 401, "the old token is refused");

    // Removed by an edit: bob's session is closed and his token refused.
    await writeConfig(dir, { gateway: { callers: { alice } }, mcpServers: { alpha } });
    await process.waitForLine(/callers reloaded .*"removed":\["bob"\]/, { stream: "stderr" });
    await process.waitForLine(/MCP session closed: its caller was removed .*"caller":"bob"/, {
      stream: "stderr",
    });
    assert.equal(await initializeStatus(url, BOB_TOKEN), 401, "a removed caller is refused");
    await assert.rejects(bob.listTools(), "bob's open session no longer serves him");
    // Not even the gateway's own token reaches bob's session: it is gone.
    const reuse = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${OWN_TOKEN}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": bobSession,
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    await reuse.body?.cancel();
    assert.equal(reuse.status, 404);
    assert.equal(await initializeStatus(url, ALICE_ROTATED), 200, "alice keeps working");
  } finally {
    await bob.close().catch(() => {});
  }
  const log = process.stderr() + process.stdout();
  for (const secret of [OWN_TOKEN, ALICE_TOKEN, ALICE_ROTATED, BOB_TOKEN]) {
    assert.ok(!log.includes(secret), "a caller token in the gateway's output");
  }
});

Deno.test("removing the last caller of a gateway without its own token refuses everyone, never opens it", async () => {
  await using dir = await makeScratchDir();
  const alpha = pidServerCommand(["--name", "alpha"]);
  const file = await writeConfig(dir, {
    gateway: { callers: { alice: { token: ALICE_TOKEN } } },
    mcpServers: { alpha },
  });
  const process = spawnCli(["gateway", "--port", "0", "--config", file], { home: dir.path });
  await using _process = process;
  const url =
    (await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, { timeoutMs: 90_000 }))[1];
  assert.equal(await initializeStatus(url, ALICE_TOKEN), 200);
  await writeConfig(dir, { mcpServers: { alpha } });
  await process.waitForLine(/callers reloaded .*"removed":\["alice"\]/, { stream: "stderr" });
  assert.equal(await initializeStatus(url, ALICE_TOKEN), 401);
  assert.equal(await initializeStatus(url, "anything"), 401, "no token opens the gateway");
});
