import assert from "node:assert/strict";
import { AuthError, NotAuthenticatedError } from "../../errors.ts";
import { silentLogger } from "../../log.ts";
import {
  credentialState,
  refreshDueAt,
  type TokenDemand,
  TokenLifecycle,
  type TokenSet,
} from "./token_lifecycle.ts";

/** A grant that issues numbered tokens living `lifetimeMs`, or fails as told. */
function countingSource(clock: { now: number }, lifetimeMs: number) {
  const demands: TokenDemand[] = [];
  const failures: Error[] = [];
  let issued = 0;
  return {
    demands,
    failures,
    async obtain(demand: TokenDemand): Promise<TokenSet> {
      demands.push(demand);
      await Promise.resolve();
      const failure = failures.shift();
      if (failure) throw failure;
      issued++;
      return {
        accessToken: `t${issued}`,
        obtainedAt: clock.now,
        expiresAt: clock.now + lifetimeMs,
      };
    },
  };
}

Deno.test("refreshDueAt: a fraction of the lifetime, capped by the margin", () => {
  const options = { refreshAt: 0.8, maxMarginMs: 60_000 };
  assert.equal(refreshDueAt({ accessToken: "t", obtainedAt: 0, expiresAt: 2_000 }, options), 1_600);
  assert.equal(
    refreshDueAt({ accessToken: "t", obtainedAt: 0, expiresAt: 3_600_000 }, options),
    3_540_000,
  );
  assert.equal(refreshDueAt({ accessToken: "t", expiresAt: 100_000 }, options), 40_000);
  assert.equal(refreshDueAt({ accessToken: "t" }, options), Infinity);
});

Deno.test("TokenLifecycle: one request for concurrent callers, one refresh per lifetime", async () => {
  const clock = { now: 0 };
  const source = countingSource(clock, 2_000);
  using lifecycle = new TokenLifecycle(source, {
    server: "demo",
    logger: silentLogger(),
    now: () => clock.now,
  });
  const first = await Promise.all(Array.from({ length: 16 }, () => lifecycle.token()));
  assert.ok(first.every((t) => t.accessToken === "t1"));
  for (let step = 0; step < 80; step++) {
    clock.now += 100; // 20 steps per lifetime of 2 s, 4 lifetimes
    await lifecycle.token();
  }
  assert.equal(source.demands.length, 1 + 5, "about one per lifetime at refreshAt 0.8");
  assert.deepEqual(source.demands.map((d) => d.need).slice(0, 2), ["missing", "due"]);
});

Deno.test("TokenLifecycle: a failed refresh keeps the valid token and backs off", async () => {
  const clock = { now: 0 };
  const source = countingSource(clock, 10_000);
  using lifecycle = new TokenLifecycle(source, {
    server: "demo",
    logger: silentLogger(),
    now: () => clock.now,
    random: () => 0,
  });
  await lifecycle.token();
  clock.now = 8_500;
  source.failures.push(new AuthError("down", { server: "demo", temporary: true }));
  assert.equal((await lifecycle.token()).accessToken, "t1");
  assert.equal(lifecycle.state(true), "refresh-failed");
  assert.equal(source.demands.at(-1)?.urgent, false, "a refresh ahead of time tries once");
  assert.equal((await lifecycle.token()).accessToken, "t1", "within the backoff: no request");
  assert.equal(source.demands.length, 2);
  clock.now = 9_000; // past the backoff (0.25 s with this jitter)
  assert.equal((await lifecycle.token()).accessToken, "t2");
  assert.equal(lifecycle.state(true), "ok");
});

Deno.test("TokenLifecycle: a source that says only a login helps drops the token", async () => {
  const clock = { now: 0 };
  const source = countingSource(clock, 10_000);
  using lifecycle = new TokenLifecycle(source, {
    server: "demo",
    logger: silentLogger(),
    now: () => clock.now,
  });
  await lifecycle.token();
  clock.now = 9_000;
  source.failures.push(new NotAuthenticatedError("demo", { reason: "refresh token rejected" }));
  await assert.rejects(lifecycle.token(), NotAuthenticatedError);
  assert.equal(lifecycle.current, undefined);
  assert.equal(lifecycle.state(true), "needs-auth");
});

Deno.test("TokenLifecycle.renew: a token newer than the refused one is used without a request", async () => {
  const clock = { now: 0 };
  const source = countingSource(clock, 10_000);
  using lifecycle = new TokenLifecycle(source, {
    server: "demo",
    logger: silentLogger(),
    now: () => clock.now,
  });
  await lifecycle.token();
  lifecycle.adopt({ accessToken: "from-another-process", obtainedAt: 0, expiresAt: 10_000 });
  assert.equal((await lifecycle.renew("t1")).accessToken, "from-another-process");
  assert.equal(source.demands.length, 1);
  assert.equal((await lifecycle.renew("from-another-process")).accessToken, "t2");
  assert.equal(source.demands.at(-1)?.need, "rejected");
});

Deno.test("credentialState: one vocabulary for every grant", () => {
  const valid = { accessToken: "t", expiresAt: 10 };
  const temporary = new AuthError("down", { server: "demo", temporary: true });
  assert.equal(credentialState({ token: valid, now: 0, renewable: true }), "ok");
  assert.equal(
    credentialState({ token: valid, now: 0, renewable: true, lastError: temporary }),
    "refresh-failed",
  );
  assert.equal(
    credentialState({ token: valid, now: 20, renewable: true, lastError: temporary }),
    "expired",
  );
  assert.equal(credentialState({ token: valid, now: 20, renewable: false }), "expired");
  assert.equal(credentialState({ token: valid, now: 20, renewable: true }), "ok");
  assert.equal(credentialState({ now: 0, renewable: true, lastError: temporary }), "error");
  assert.equal(
    credentialState({ now: 0, renewable: true, lastError: new AuthError("no", { server: "d" }) }),
    "needs-auth",
  );
});
