import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../src/log.ts";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { login, startWorld } from "./_world.ts";

const quiet = () => new Logger({ level: "error", write: () => {} });
const LIFETIMES = 10;
const CALLS_PER_LIFETIME = 10;

for (const ttlSeconds of [2, 20, 120]) {
  Deno.test(`two gateways sharing a login with ${ttlSeconds} s tokens refresh about once per lifetime`, async () => {
    await using world = await startWorld({ accessTokenTtlSeconds: ttlSeconds });
    await login(world);
    // One clock for both "gateways", stepped by a tenth of the lifetime per call; each has its
    // own store instance on the same files, as two processes do.
    let now = Date.now();
    const gateways = [0, 1].map(() =>
      new OAuthCredentialProvider(world.server, {
        store: new FileTokenStore({ dir: join(world.home, "credentials") }),
        logger: quiet(),
        now: () => now,
      })
    );
    const before = world.as.counters.tokenByGrant.refresh_token ?? 0;
    for (let call = 0; call < LIFETIMES * CALLS_PER_LIFETIME; call++) {
      const headers = await gateways[call % 2].headers();
      assert.match(headers.Authorization, /^Bearer /);
      now += (ttlSeconds * 1000) / CALLS_PER_LIFETIME;
    }
    // Each token is refreshed once 80 % of its lifetime has passed: 1.25 refreshes per lifetime.
    const refreshes = (world.as.counters.tokenByGrant.refresh_token ?? 0) - before;
    assert.ok(
      refreshes >= LIFETIMES - 1 && refreshes <= Math.ceil(LIFETIMES / 0.8) + 1,
      `${refreshes} refreshes in ${LIFETIMES} lifetimes`,
    );
  });
}
