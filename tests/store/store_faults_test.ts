import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { runCli } from "../_helpers.ts";
import { login, textOf } from "../oauth/_world.ts";
import {
  dumpRedis,
  randomStoreKey,
  startRedisWorld,
  startStoreGateway,
  writeStoreConfig,
} from "./_redis_world.ts";

const PASSWORD = "canary-redis-pw-4e1b";

Deno.test("redis unreachable at start: the gateway starts, demo reports the store URL without its password, and recovers when Redis returns", async () => {
  await using env = await startRedisWorld({ redis: { password: PASSWORD } });
  const { world } = env;
  await env.redis.stop();
  await using gateway = await startStoreGateway(world);
  const where = `redis://127.0.0.1:${env.redis.port}`;
  const status = await runCli(["status", "--config", world.configPath], { home: world.home });
  assert.match(status.stdout, /^demo\s.*\berror\b/m);
  assert.ok(status.stdout.includes(`Credential store ${where} is unreachable`), status.stdout);

  // Each tools/list_changed (Redis back: needs a login; the login: connected) is looked at.
  const listed = Promise.withResolvers<void>();
  gateway.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    const tools = (await gateway.client.listTools()).tools.map((t) => t.name);
    if (tools.includes("demo__echo")) listed.resolve();
  });
  await env.redis.start();
  const auth = await login(world);
  await listed.promise; // the gateway reconnected by itself once Redis was back
  const result = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "back" } });
  assert.equal(textOf(result), "echo: back");

  for (
    const text of [
      gateway.process.stderr(),
      gateway.process.stdout(),
      status.stdout,
      status.stderr,
      auth.stderr(),
      auth.stdout(),
    ]
  ) {
    assert.ok(!text.includes(PASSWORD), "the Redis password in output");
  }
  assert.ok(
    gateway.process.stderr().includes(where),
    "the store URL is named in the gateway's log",
  );
});

Deno.test("redis dying mid-run: cached tokens keep working until they need a refresh, then a retryable error", async () => {
  await using env = await startRedisWorld({ accessTokenTtlSeconds: 3 });
  const { world } = env;
  await login(world);
  await using gateway = await startStoreGateway(world);
  const call = async (text: string) => {
    const result = await gateway.client.callTool({ name: "demo__echo", arguments: { text } });
    return { error: result.isError === true, text: textOf(result) };
  };
  assert.deepEqual(await call("before"), { error: false, text: "echo: before" });
  await env.redis.stop();
  assert.deepEqual(await call("cached"), { error: false, text: "echo: cached" });
  // Keep calling until the token needs a refresh (bounded: 200 calls, 3 s lifetime).
  let failed: { error: boolean; text: string } | undefined;
  for (let i = 0; i < 200 && !failed; i++) {
    const result = await call(`c${i}`);
    if (result.error) failed = result;
    else await new Promise((resolve) => setTimeout(resolve, 50)); // pacing the load, not a wait
  }
  assert.ok(failed, "a call failed once the token needed a refresh");
  assert.match(failed.text, /Credential store redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
  assert.match(failed.text, /try again/);
  // Redis back (empty: persistence is off), a new login: calls work again.
  await env.redis.start();
  await login(world);
  let recovered = false;
  for (let i = 0; i < 100 && !recovered; i++) {
    recovered = !(await call(`r${i}`)).error;
    if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(recovered, "calls work again after Redis returned and a login");
});

Deno.test("a value that does not decrypt names the server and toolscript auth; store rekey re-encrypts under a new key", async () => {
  await using env = await startRedisWorld();
  const { world } = env;
  await login(world);
  const before = await dumpRedis(env.redis.url);

  // The wrong key: status names the server and the login that replaces the value.
  const wrongKey = join(world.dir.path, "wrong.key");
  await Deno.writeTextFile(wrongKey, randomStoreKey(), { mode: 0o600 });
  await writeStoreConfig(world, env.redis.url, wrongKey);
  const wrong = await runCli(["status", "--config", world.configPath], { home: world.home });
  assert.match(
    wrong.stdout,
    /demo\s.*cannot be used: it does not decrypt under the configured key/,
  );
  assert.match(wrong.stdout, /toolscript auth demo/);

  // Rotation: old key → new key, then the config names the new key and calls work.
  const newKey = join(world.dir.path, "new.key");
  await Deno.writeTextFile(newKey, randomStoreKey(), { mode: 0o600 });
  await writeStoreConfig(world, env.redis.url, env.keyFile);
  const rekey = await runCli([
    "store",
    "rekey",
    "--config",
    world.configPath,
    "--old-key-file",
    env.keyFile,
    "--new-key-file",
    newKey,
  ], { home: world.home });
  assert.equal(rekey.code, 0, rekey.stderr);
  assert.match(rekey.stdout, /^Re-encrypted 1 value in redis:\/\/127\.0\.0\.1:\d+ \(0 already/);
  const after = await dumpRedis(env.redis.url);
  assert.notEqual(after, before, "the value changed");
  const again = await runCli([
    "store",
    "rekey",
    "--config",
    world.configPath,
    "--old-key-file",
    env.keyFile,
    "--new-key-file",
    newKey,
  ], { home: world.home });
  assert.match(again.stdout, /^Re-encrypted 0 values .*\(1 already under the new key\)/);
  const stale = await runCli(["status", "--config", world.configPath], { home: world.home });
  assert.match(stale.stdout, /does not decrypt/, "the old key no longer reads it");
  await writeStoreConfig(world, env.redis.url, newKey);
  await using gateway = await startStoreGateway(world);
  const result = await gateway.client.callTool({ name: "demo__echo", arguments: { text: "new" } });
  assert.equal(textOf(result), "echo: new");
});

Deno.test("no store key: refused with exit 2", async () => {
  await using env = await startRedisWorld();
  const { world } = env;
  const config = JSON.parse(await Deno.readTextFile(world.configPath));
  delete config.store;
  await Deno.writeTextFile(world.configPath, JSON.stringify(config));
  const refused = await runCli(["status", "--config", world.configPath], {
    home: world.home,
    env: { TOOLSCRIPT_STORE_URL: `redis://:${PASSWORD}@127.0.0.1:${env.redis.port}` },
  });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /TOOLSCRIPT_STORE_KEY/);
  assert.ok(!refused.stderr.includes(PASSWORD));
  await Deno.writeTextFile(env.keyFile, "not-a-key");
  await writeStoreConfig(world, env.redis.url, env.keyFile);
  const bad = await runCli(["status", "--config", world.configPath], { home: world.home });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /store encryption key/);
});
