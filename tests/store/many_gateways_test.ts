import assert from "node:assert/strict";
import { login, textOf } from "../oauth/_world.ts";
import {
  dumpRedis,
  type GatewayProcess,
  startRedisWorld,
  startStoreGateway,
  tokensSeenUpstream,
} from "./_redis_world.ts";

const LIFETIME_S = 2;
const LIFETIMES = 4;
const CALLERS_PER_GATEWAY = 3;

/** Calls `demo__echo` in a loop until `until` (epoch ms); returns [ok, failures]. */
async function hammer(gateway: GatewayProcess, until: number, tag: string) {
  let ok = 0;
  const failures: string[] = [];
  for (let i = 0; i < 10_000 && Date.now() < until; i++) {
    try {
      const result = await gateway.client.callTool({
        name: "demo__echo",
        arguments: { text: `${tag}-${i}` },
      });
      if (textOf(result) === `echo: ${tag}-${i}`) ok++;
      else failures.push(textOf(result));
    } catch (error) {
      failures.push(String(error));
    }
  }
  return { ok, failures };
}

Deno.test("three gateways share one login in Redis: one killed, 0 failed calls, 0 refresh-token reuse, no token in plaintext", async () => {
  await using env = await startRedisWorld({ accessTokenTtlSeconds: LIFETIME_S });
  const { world } = env;
  await login(world);
  const gateways = await Promise.all([0, 1, 2].map(() => startStoreGateway(world)));
  await using _a = gateways[0];
  await using _b = gateways[1];
  const [a, b, c] = gateways;
  try {
    const started = Date.now();
    const until = started + LIFETIMES * LIFETIME_S * 1000;
    const load = (g: GatewayProcess, name: string) =>
      Promise.all(
        Array.from({ length: CALLERS_PER_GATEWAY }, (_, i) => hammer(g, until, `${name}${i}`)),
      );
    const runs = [load(a, "a"), load(b, "b"), load(c, "c")];
    // Kill the third one mid-run, after it has served calls (and likely refreshed).
    await c.process.waitForLine(/demo/, { stream: "stderr" });
    const killAt = started + (LIFETIMES * LIFETIME_S * 1000) / 3;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killAt - Date.now())));
    c.process.kill("SIGKILL");
    await c.process.status;
    const [resA, resB] = await Promise.all([runs[0], runs[1]]);
    await runs[2]; // its failures after the kill are expected

    const failures = [...resA, ...resB].flatMap((r) => r.failures);
    const calls = [...resA, ...resB].reduce((n, r) => n + r.ok, 0);
    assert.deepEqual(failures, [], "no failed call on the surviving gateways");
    assert.ok(calls > 0);
    const refreshes = world.as.counters.tokenByGrant.refresh_token ?? 0;
    const lifetimes = Math.ceil((Date.now() - started) / (LIFETIME_S * 1000));
    assert.ok(refreshes >= 1, "the tokens were refreshed during the run");
    assert.ok(
      refreshes <= 2 * lifetimes,
      `${refreshes} refreshes in ${lifetimes} lifetimes (3 gateways, one login)`,
    );
    assert.deepEqual(world.as.serverErrors, []);
    // No refresh token was reused: the grant survived, the stored token is valid at the AS.
    const doc = await env.store.load("demo", world.mcp.url);
    assert.ok(doc?.tokens?.refreshToken);
    assert.ok(await world.as.verifyAccessToken(doc.tokens.accessToken), "stored token is valid");

    await assert.rejects(Deno.lstat(world.credentialFile), Deno.errors.NotFound, "no file store");
    const raw = await dumpRedis(env.redis.url);
    assert.ok(raw.includes("demo"));
    const secrets = [...tokensSeenUpstream(world), doc.tokens.refreshToken];
    assert.ok(secrets.length > 2, "several access tokens were used");
    for (const secret of secrets) {
      assert.ok(!raw.includes(secret), "a token in plaintext in Redis");
    }
  } finally {
    c.process.kill("SIGKILL");
    await c.client.close().catch(() => {});
  }
});
