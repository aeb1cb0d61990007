/**
 * Row group 10, shared store: three gateway processes on one Redis store, one OAuth login with
 * rotating refresh tokens that live a second or two, 32 concurrent callers per gateway for 5
 * lifetimes. Counts the refresh requests the authorization server saw between them (ideal: one
 * per refresh window, 5 lifetimes ÷ 0.8 = 6.25, however many gateways) and the calls that
 * failed for a caller (ideal: none).
 */
import { join } from "node:path";
import type { BenchContext } from "./_context.ts";
import { runLoad, type Samples } from "./_measure.ts";
import { connectHttp, echoCall, spawnGateway } from "./_procs.ts";
import type { BenchRow } from "./_table.ts";
import { callCount, refreshRows, unavailableRefreshRows } from "./_refresh_rows.ts";
import { redisAvailable, startRedis } from "../tests/fixtures/redis_server.ts";
import { login, startWorld } from "../tests/oauth/_world.ts";
import { randomStoreKey, writeStoreConfig } from "../tests/store/_redis_world.ts";

const GROUP = "10 Shared store (Redis, 3 gateways × 32 callers, one OAuth login)";
const GATEWAYS = 3;
const CALLERS = 32;
const LIFETIMES = 5;
/** The default refresh point of OAuth token sets. */
const REFRESH_AT = 0.8;
const CALL_TIMEOUT_MS = 5000;

/** Row group 10. */
export async function benchRedis(ctx: BenchContext): Promise<BenchRow[]> {
  // 2 s also with --quick: the authorization server's `exp` has whole seconds, so a 1 s token
  // refreshed late in a second may be expired on arrival, a fixture artifact.
  const lifetimeSeconds = 2;
  ctx.progress(`${GROUP}: starting Redis, the authorization server and ${GATEWAYS} gateways`);
  const names = {
    group: GROUP,
    requestsMeasure: `refresh requests over ${LIFETIMES} lifetimes of ${lifetimeSeconds} s`,
    failuresMeasure: "caller-visible failures",
  };
  if (!await redisAvailable()) {
    return unavailableRefreshRows(
      names,
      "redis-server not installed (apt-get install redis-server)",
    );
  }
  await using redis = await startRedis();
  await using world = await startWorld({ accessTokenTtlSeconds: lifetimeSeconds });
  const keyFile = join(world.dir.path, "store.key");
  await Deno.writeTextFile(keyFile, randomStoreKey(), { mode: 0o600 });
  await writeStoreConfig(world, redis.url, keyFile);
  await login(world);
  const gateways = await Promise.all(
    Array.from({ length: GATEWAYS }, () => spawnGateway(world.configPath, world.home)),
  );
  const clients = await Promise.all(gateways.map((g) => connectHttp(g.url)));
  try {
    const calls = clients.map((c) => echoCall(c, "demo__echo", CALL_TIMEOUT_MS));
    await Promise.all(calls.map((call) => call())); // one probe each
    const before = world.as.counters.tokenByGrant.refresh_token ?? 0;
    ctx.progress(`${GROUP}: ${GATEWAYS}×${CALLERS} callers for ${LIFETIMES * lifetimeSeconds} s`);
    const samples: Samples = { latenciesMs: [], failures: 0, elapsedMs: 0 };
    await Promise.all(
      calls.map((call) => runLoad(call, CALLERS, LIFETIMES * lifetimeSeconds * 1000, samples)),
    );
    const requests = (world.as.counters.tokenByGrant.refresh_token ?? 0) - before;
    const ideal = LIFETIMES / REFRESH_AT;
    const raw = {
      refreshRequests: requests,
      idealRefreshRequests: ideal,
      calls: callCount(samples),
      failures: samples.failures,
      lifetimeSeconds,
      gateways: GATEWAYS,
      callersPerGateway: CALLERS,
    };
    return refreshRows({
      ...names,
      requests,
      subject: `${requests} refresh requests from ${GATEWAYS} gateways`,
      lifetimes: LIFETIMES,
      refreshAt: REFRESH_AT,
      samples,
      raw,
    });
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all(gateways.map((g) => g[Symbol.asyncDispose]()));
  }
}
