import assert from "node:assert/strict";
import { startRedis } from "../fixtures/redis_server.ts";
import { RedisTokenStore } from "../../src/auth/store/redis_token_store.ts";
import { importStoreKey } from "../../src/auth/store/redis_encryption.ts";
import { RedisClient } from "../../src/auth/store/redis_client.ts";
import { parseRedisUrl, StoreUnavailableError } from "../../src/auth/store/redis_connection.ts";
import { NotAuthenticatedError } from "../../src/errors.ts";
import type { CredentialDocument } from "../../src/auth/store/token_store.ts";
import { dumpRedis } from "./_redis_world.ts";

const URL_A = "https://mcp.example/a";
const ACCESS = "canary-access-7f3a9d";
const REFRESH = "canary-refresh-51c0be";

function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

function doc(server: string, access = ACCESS, refresh = REFRESH): CredentialDocument {
  return {
    version: 1,
    server,
    serverUrl: URL_A,
    tokens: { accessToken: access, refreshToken: refresh, expiresAt: Date.now() + 60_000 },
    updatedAt: 0,
  };
}

Deno.test("redis store: round trip, list, version, delete; values encrypted at rest", async () => {
  await using redis = await startRedis();
  const key = await importStoreKey(randomKey());
  const store = new RedisTokenStore({ url: redis.url, key });
  try {
    assert.equal(await store.load("alpha", URL_A), undefined);
    assert.equal(await store.version("alpha"), undefined);
    await store.save(doc("alpha"));
    await store.save(doc("beta/x"));
    const loaded = await store.load("alpha", URL_A);
    assert.equal(loaded?.tokens?.accessToken, ACCESS);
    assert.equal(await store.load("alpha", "https://other.example/"), undefined);
    assert.deepEqual(await store.list(), ["alpha", "beta/x"]);
    const v1 = await store.version("alpha");
    assert.ok(v1);
    await store.save(doc("alpha", "canary-access-2"));
    assert.notEqual(await store.version("alpha"), v1);
    const raw = await dumpRedis(redis.url);
    assert.ok(raw.includes("alpha"), "the dump saw the documents");
    for (const secret of [ACCESS, REFRESH, "canary-access-2", URL_A]) {
      assert.ok(!raw.includes(secret), `${secret} in plaintext in Redis`);
    }
    assert.equal(await store.delete("alpha"), true);
    assert.equal(await store.delete("alpha"), false);
    assert.deepEqual(await store.list(), ["beta/x"]);
    // A caller's documents are their own.
    const alice = store.forCaller("alice");
    assert.equal(await alice.load("beta/x", URL_A), undefined);
    await alice.save(doc("beta/x", "canary-alice"));
    assert.equal((await store.load("beta/x", URL_A))?.tokens?.accessToken, ACCESS);
    assert.equal((await alice.load("beta/x", URL_A))?.tokens?.accessToken, "canary-alice");
    assert.deepEqual(await alice.list(), ["beta/x"]);
  } finally {
    store.close();
  }
});

Deno.test("redis store: a value moved to another server, or read with another key, does not decrypt", async () => {
  await using redis = await startRedis();
  const key = await importStoreKey(randomKey());
  const store = new RedisTokenStore({ url: redis.url, key });
  const client = new RedisClient(parseRedisUrl(redis.url));
  try {
    await store.save(doc("alpha"));
    // Copy alpha's value over beta's: associated data binds it to alpha.
    const data = await client.command(["HGET", "toolscript:{g:alpha}:doc", "data"]);
    await client.command(["HSET", "toolscript:{g:beta}:doc", "fence", "1", "data", String(data)]);
    const moved = await store.load("beta", URL_A).catch((e) => e);
    assert.ok(moved instanceof NotAuthenticatedError, String(moved));
    assert.match(moved.message, /server "beta"/);
    assert.match(moved.message, /toolscript auth beta/);
    const other = new RedisTokenStore({ url: redis.url, key: await importStoreKey(randomKey()) });
    const wrong = await other.load("alpha", URL_A).catch((e) => e);
    assert.ok(wrong instanceof NotAuthenticatedError);
    assert.match(wrong.message, /toolscript auth alpha/);
    assert.ok(!wrong.message.includes(ACCESS));
    other.close();
  } finally {
    client.close();
    store.close();
  }
});

Deno.test("redis store: a holder whose lease ran out cannot overwrite the newer token set", async () => {
  await using redis = await startRedis();
  const key = await importStoreKey(randomKey());
  // Two processes' stores (no shared in-process queue), a short lease.
  const a = new RedisTokenStore({ url: redis.url, key, lockLeaseMs: 300 });
  const b = new RedisTokenStore({ url: redis.url, key, lockLeaseMs: 300 });
  try {
    await a.save(doc("alpha", "canary-old"));
    let releaseA!: () => void;
    const aStalled = new Promise<void>((resolve) => releaseA = resolve);
    let aHolds!: () => void;
    const aHolding = new Promise<void>((resolve) => aHolds = resolve);
    // A takes the lock, then stalls (a paused or partitioned process).
    const aDone = a.transaction("alpha", async (tx) => {
      aHolds();
      await aStalled;
      await tx.save(doc("alpha", "canary-stale"));
    }).catch((e: unknown) => e);
    await aHolding;
    // A's lease ends while it stalls (as when it cannot renew): Redis drops the lock.
    const client = new RedisClient(parseRedisUrl(redis.url));
    await client.command(["DEL", "toolscript:{g:alpha}:lock"]);
    client.close();
    await b.transaction("alpha", async (tx) => {
      await tx.save(doc("alpha", "canary-new"));
    });
    releaseA();
    const error = await aDone;
    assert.ok(error instanceof Error && error.name === "LockLostError", String(error));
    assert.equal((await b.load("alpha", URL_A))?.tokens?.accessToken, "canary-new");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("redis store: a lock whose holder died ends with its lease", async () => {
  await using redis = await startRedis();
  const key = await importStoreKey(randomKey());
  const client = new RedisClient(parseRedisUrl(redis.url));
  const store = new RedisTokenStore({ url: redis.url, key, lockLeaseMs: 400 });
  try {
    // A dead process's lock: set, never renewed, never released.
    await client.command(["SET", "toolscript:{g:alpha}:lock", "dead", "PX", "400"]);
    const started = performance.now();
    await store.transaction("alpha", (tx) => tx.save(doc("alpha")), AbortSignal.timeout(10_000));
    assert.ok(performance.now() - started >= 300, "waited for the dead holder's lease");
    assert.equal((await store.load("alpha", URL_A))?.tokens?.accessToken, ACCESS);
  } finally {
    client.close();
    store.close();
  }
});

Deno.test("redis store: watchers hear of writes by other processes", async () => {
  await using redis = await startRedis();
  const key = await importStoreKey(randomKey());
  const writer = new RedisTokenStore({ url: redis.url, key });
  const watcher = new RedisTokenStore({ url: redis.url, key });
  const stop = new AbortController();
  try {
    const heard: (string | undefined)[] = [];
    let wake = () => {};
    const connected = new Promise<void>((resolve) => {
      watcher.watch((server) => {
        heard.push(server);
        if (server === undefined) resolve();
        wake();
      }, stop.signal);
    });
    await connected;
    const got = new Promise<void>((resolve) => wake = () => heard.includes("alpha") && resolve());
    await writer.save(doc("alpha"));
    await got;
    await writer.forCaller("bob").save(doc("gamma"));
    await writer.save(doc("delta"));
    await new Promise<void>((resolve) => {
      wake = () => heard.includes("delta") && resolve();
      wake();
    });
    assert.ok(!heard.includes("gamma"), "a caller's write is not the gateway's");
  } finally {
    stop.abort();
    writer.close();
    watcher.close();
  }
});

Deno.test("redis store: rekey re-encrypts every value, callers' too, and can run again", async () => {
  await using redis = await startRedis();
  const oldKey = await importStoreKey(randomKey());
  const newKey = await importStoreKey(randomKey());
  const before = new RedisTokenStore({ url: redis.url, key: oldKey });
  await before.save(doc("alpha"));
  await before.forCaller("alice").save(doc("alpha", "canary-alice"));
  before.close();
  const after = new RedisTokenStore({ url: redis.url, key: newKey });
  try {
    assert.deepEqual(await after.rekey(oldKey), { rekeyed: 2, current: 0 });
    assert.deepEqual(await after.rekey(oldKey), { rekeyed: 0, current: 2 });
    assert.equal((await after.load("alpha", URL_A))?.tokens?.accessToken, ACCESS);
    assert.equal(
      (await after.forCaller("alice").load("alpha", URL_A))?.tokens?.accessToken,
      "canary-alice",
    );
    const stale = new RedisTokenStore({ url: redis.url, key: oldKey });
    await assert.rejects(() => stale.load("alpha", URL_A), NotAuthenticatedError);
    stale.close();
  } finally {
    after.close();
  }
});

Deno.test("redis store: unreachable Redis is a temporary error naming the URL, never its password", async () => {
  const password = "canary-redis-pw-9d2e";
  await using redis = await startRedis({ password });
  const key = await importStoreKey(randomKey());
  const store = new RedisTokenStore({ url: redis.url, key, timeoutMs: 2_000 });
  try {
    await store.save(doc("alpha"));
    await redis.stop();
    const error = await store.load("alpha", URL_A).catch((e) => e);
    assert.ok(error instanceof StoreUnavailableError, String(error));
    assert.equal(error.temporary, true);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${redis.port}`));
    assert.ok(!error.message.includes(password));
    assert.ok(!String(error.stack).includes(password));
    await redis.start();
    // Back: a new connection (data is gone, persistence is off).
    assert.equal(await store.load("alpha", URL_A), undefined);
    const wrong = new RedisTokenStore({
      url: redis.url.replace(password, "canary-wrong-pw"),
      key,
      timeoutMs: 2_000,
    });
    const refused = await wrong.load("alpha", URL_A).catch((e) => e);
    assert.ok(refused instanceof StoreUnavailableError, String(refused));
    assert.ok(!refused.message.includes("canary-wrong-pw"));
    wrong.close();
  } finally {
    store.close();
  }
});
