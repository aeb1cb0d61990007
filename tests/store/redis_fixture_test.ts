import assert from "node:assert/strict";
import { startRedis } from "../fixtures/redis_server.ts";

async function ping(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

Deno.test("the redis fixture starts a server that answers, stops it, and restarts it on the same port", async () => {
  await using redis = await startRedis();
  assert.equal(await ping(redis.port), "+PONG\r\n");
  const port = redis.port;
  await redis.stop();
  await assert.rejects(() => ping(port));
  await redis.start();
  assert.equal(redis.port, port);
  assert.equal(await ping(redis.port), "+PONG\r\n");
});
