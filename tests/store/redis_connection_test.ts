import assert from "node:assert/strict";
import { startRedis } from "../fixtures/redis_server.ts";
import { RedisClient } from "../../src/auth/store/redis_client.ts";
import { parseRedisUrl, RedisReplyError } from "../../src/auth/store/redis_connection.ts";

Deno.test("parseRedisUrl: host, port, TLS, credentials and database; shown without the password", () => {
  const address = parseRedisUrl("rediss://user:canary%40pw@redis.internal:6380/3");
  assert.deepEqual(address, {
    hostname: "redis.internal",
    port: 6380,
    tls: true,
    username: "user",
    password: "canary@pw",
    db: 3,
    display: "rediss://redis.internal:6380/3",
  });
  assert.equal(parseRedisUrl("redis://127.0.0.1").port, 6379);
  for (const bad of ["http://h/", "redis://:canary-pw@h/x", "not a url"]) {
    assert.throws(() => parseRedisUrl(bad), (e: Error) => !e.message.includes("canary-pw"));
  }
});

Deno.test("redis client: large values across reads, pipelined replies in order, error replies, a database from the URL", async () => {
  await using redis = await startRedis({ password: "canary-pw-1" });
  const client = new RedisClient(parseRedisUrl(`${redis.url}/2`));
  try {
    const big = "é".repeat(150_000) + "end"; // multi-byte, several socket reads
    assert.equal(await client.command(["SET", "big", big]), "OK");
    assert.equal(await client.command(["GET", "big"]), big);
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.command(["ECHO", `n${i}`])),
    );
    assert.deepEqual(replies, Array.from({ length: 200 }, (_, i) => `n${i}`));
    await assert.rejects(() => client.command(["NOSUCHCOMMAND"]), RedisReplyError);
    assert.equal(await client.command(["PING"]), "PONG", "the connection survives an error reply");
    const other = new RedisClient(parseRedisUrl(redis.url));
    assert.equal(await other.command(["GET", "big"]), null, "db 0 is another database");
    other.close();
  } finally {
    client.close();
  }
});
