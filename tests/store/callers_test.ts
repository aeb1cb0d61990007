import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, writeConfig } from "../_helpers.ts";
import { login, type OAuthWorld, startWorld, textOf } from "../oauth/_world.ts";
import { startRedis } from "../fixtures/redis_server.ts";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { RedisTokenStore } from "../../src/auth/store/redis_token_store.ts";
import { importStoreKey } from "../../src/auth/store/redis_encryption.ts";
import type { TokenStore } from "../../src/auth/store/token_store.ts";
import { connectClient, randomStoreKey, startStoreGateway } from "./_redis_world.ts";

const OWN_TOKEN = "canary-gateway-own-0c1d";
const ALICE_TOKEN = "canary-alice-gw-7e2f";
const BOB_TOKEN = "canary-bob-gw-93aa";

/** Writes the world's config with two callers (and a Redis store when `store` is given). */
async function writeCallersConfig(world: OAuthWorld, store?: Record<string, unknown>) {
  await writeConfig(world.dir, {
    gateway: { callers: { alice: { token: ALICE_TOKEN }, bob: { tokenEnv: "BOB_GATEWAY_TOKEN" } } },
    ...(store ? { store } : {}),
    mcpServers: { demo: { type: "http", url: world.mcp.url, auth: { type: "oauth" } } },
  });
}

async function callersSpec(world: OAuthWorld, storeOf: (caller?: string) => TokenStore) {
  const env = { BOB_GATEWAY_TOKEN: BOB_TOKEN, TOOLSCRIPT_GATEWAY_TOKEN: OWN_TOKEN };
  await login(world, [], { env }); // the gateway's own login (it lists the tools)
  const aliceLogin = await login(world, ["--caller", "alice"], { env });
  assert.match(aliceLogin.stdout(), /Authenticated demo/);
  const own = (await storeOf().load("demo", world.mcp.url))!.tokens!.accessToken;
  const alice = (await storeOf("alice").load("demo", world.mcp.url))!.tokens!.accessToken;
  assert.notEqual(own, alice);
  assert.equal(await storeOf("bob").load("demo", world.mcp.url), undefined);

  await using gateway = await startStoreGateway(world, {
    env,
    token: OWN_TOKEN,
    args: ["--expose", "both"],
  });
  const aliceClient = await connectClient(gateway.url, ALICE_TOKEN);
  const bobClient = await connectClient(gateway.url, BOB_TOKEN);
  try {
    const seen = () => world.mcp.requests.length;
    const tokensSince = (from: number) =>
      new Set(
        world.mcp.requests.slice(from).map((r) => r.headers.authorization?.replace(/^Bearer /, "")),
      );

    let from = seen();
    const a = await aliceClient.callTool({ name: "demo__echo", arguments: { text: "alice" } });
    assert.equal(textOf(a), "echo: alice");
    assert.deepEqual([...tokensSince(from)], [alice], "alice's calls carry alice's token only");

    // A program alice runs through toolscript__exec acts as alice.
    const code = `import { tools } from "toolscript";
console.log(await tools.demo.echo({ text: "via exec" }));`;
    from = seen();
    const viaExec = await aliceClient.callTool({ name: "toolscript__exec", arguments: { code } });
    assert.match(textOf(viaExec), /echo: via exec/);
    assert.deepEqual([...tokensSince(from)], [alice], "alice's program calls with alice's token");
    // So does `toolscript exec` against the running gateway with alice's token.
    from = seen();
    const cliExec = await runCli(["exec", code, "--config", world.configPath], {
      home: world.home,
      env: { ...env, TOOLSCRIPT_GATEWAY_URL: gateway.url, TOOLSCRIPT_GATEWAY_TOKEN: ALICE_TOKEN },
    });
    assert.equal(cliExec.code, 0, cliExec.stderr);
    assert.match(cliExec.stdout, /echo: via exec/);
    assert.ok(!tokensSince(from).has(own), "the CLI's program never used the gateway's login");
    assert.ok(tokensSince(from).has(alice));
    from = seen();
    const bobExec = await bobClient.callTool({ name: "toolscript__exec", arguments: { code } });
    assert.match(textOf(bobExec), /toolscript auth demo --caller bob/);
    assert.deepEqual([...tokensSince(from)], [], "bob's program reaches the upstream with nothing");

    from = seen();
    const o = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "own" } });
    assert.equal(textOf(o), "echo: own");
    assert.deepEqual([...tokensSince(from)], [own], "the gateway's own calls carry its token");

    from = seen();
    const b = await bobClient.callTool({ name: "demo__echo", arguments: { text: "bob" } });
    assert.equal(b.isError, true);
    assert.match(textOf(b), /toolscript auth demo --caller bob/);
    assert.ok(!tokensSince(from).has(alice), "bob's call never carries alice's token");
    assert.ok(!tokensSince(from).has(own), "nor the gateway's");

    // Bob cannot use alice's session.
    const aliceSession = (aliceClient.transport as { sessionId?: string }).sessionId!;
    const hijack = await fetch(gateway.url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${BOB_TOKEN}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": aliceSession,
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "demo__echo", arguments: { text: "stolen" } },
      }),
    });
    assert.equal(hijack.status, 404);
    await hijack.body?.cancel();

    const status = await runCli(
      ["status", "--caller", "bob", "--config", world.configPath],
      { home: world.home, env },
    );
    assert.equal(status.code, 3, status.stdout + status.stderr);
    assert.match(status.stdout, /^demo\s.*needs-auth/m);

    // Bob logs in: his calls now carry his own token.
    await login(world, ["--caller", "bob"], { env });
    const bobToken = (await storeOf("bob").load("demo", world.mcp.url))!.tokens!.accessToken;
    from = seen();
    const b2 = await bobClient.callTool({ name: "demo__echo", arguments: { text: "bob2" } });
    assert.equal(textOf(b2), "echo: bob2");
    assert.deepEqual([...tokensSince(from)], [bobToken]);

    // Alice logs out: her calls are refused again, naming her login.
    const logout = await runCli(
      ["logout", "demo", "--caller", "alice", "--config", world.configPath],
      { home: world.home, env },
    );
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(await storeOf("alice").load("demo", world.mcp.url), undefined);
    assert.ok(await storeOf().load("demo", world.mcp.url), "the gateway's own login stays");

    const log = gateway.process.stderr();
    assert.match(log, /"caller":"alice"/);
    for (const secret of [OWN_TOKEN, ALICE_TOKEN, BOB_TOKEN, alice, own, bobToken]) {
      assert.ok(!log.includes(secret), "a token in the gateway's log");
    }
  } finally {
    await aliceClient.close();
    await bobClient.close();
  }
}

Deno.test("callers alice and bob are isolated (file store): the upstream sees alice's token only on alice's calls", async () => {
  await using world = await startWorld();
  await writeCallersConfig(world);
  const dir = join(world.home, "credentials");
  await callersSpec(
    world,
    (caller) => new FileTokenStore({ dir: caller ? join(dir, "callers", caller) : dir }),
  );
});

Deno.test("callers alice and bob are isolated (Redis store)", async () => {
  await using redis = await startRedis();
  await using world = await startWorld();
  const key = randomStoreKey();
  const keyFile = join(world.dir.path, "store.key");
  await Deno.writeTextFile(keyFile, key, { mode: 0o600 });
  await writeCallersConfig(world, { type: "redis", url: redis.url, encryptionKeyFile: keyFile });
  const store = new RedisTokenStore({ url: redis.url, key: await importStoreKey(key) });
  try {
    await callersSpec(world, (caller) => store.forCaller(caller));
  } finally {
    store.close();
  }
});

Deno.test("gateway.callers: an unknown --caller is a usage error; two callers with one token are refused", async () => {
  await using world = await startWorld();
  await writeCallersConfig(world);
  const unknown = await runCli(
    ["status", "--caller", "carol", "--config", world.configPath],
    { home: world.home, env: { BOB_GATEWAY_TOKEN: BOB_TOKEN } },
  );
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown caller "carol".*alice, bob/);
  const shared = await runCli(["gateway", "--port", "0", "--config", world.configPath], {
    home: world.home,
    env: { BOB_GATEWAY_TOKEN: ALICE_TOKEN },
  });
  assert.equal(shared.code, 2, shared.stderr);
  assert.match(shared.stderr, /Callers "alice" and "bob" have the same token/);
  assert.ok(!shared.stderr.includes(ALICE_TOKEN));
});
