/**
 * A code-mode program that calls many tools of an OAuth server whose stored access token has
 * expired costs one refresh at the authorization server, not one per call, both when `exec`
 * starts its own gateway in-process and through a running `toolscript gateway`. No call goes
 * out with the expired token: the calls wait for that one refresh.
 */
import assert from "node:assert/strict";
import { runCli, spawnCli } from "../_helpers.ts";
import { login, type OAuthWorld, startWorld } from "../oauth/_world.ts";

/** 20 calls: 10 at once, then 10 one after another; prints every result. */
const PROGRAM = `import { tools } from "toolscript";
const concurrent = await Promise.all(
  Array.from({ length: 10 }, (_, i) => tools.demo.echo({ text: "c" + i })),
);
const sequential: unknown[] = [];
for (let i = 0; i < 10; i++) sequential.push(await tools.demo.echo({ text: "s" + i }));
console.log(JSON.stringify([...concurrent, ...sequential]));
`;

const EXPECTED = [
  ...Array.from({ length: 10 }, (_, i) => `echo: c${i}`),
  ...Array.from({ length: 10 }, (_, i) => `echo: s${i}`),
];

/**
 * Rewrites the stored credential document so that its access token expired a minute ago;
 * returns a check that no request to the MCP server from now on carried that token.
 */
async function expireStoredToken(world: OAuthWorld): Promise<() => void> {
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(doc?.tokens?.refreshToken, "the login stored a refresh token");
  await world.store.save({ ...doc, tokens: { ...doc.tokens, expiresAt: Date.now() - 60_000 } });
  const expired = `Bearer ${doc.tokens.accessToken}`;
  const from = world.mcp.requests.length;
  return () => {
    const stale = world.mcp.requests.slice(from).filter((r) => r.headers.authorization === expired);
    assert.equal(stale.length, 0, "requests sent with the expired token");
  };
}

function refreshCount(world: OAuthWorld): number {
  return world.as.counters.tokenByGrant.refresh_token ?? 0;
}

async function assertFreshTokenStored(world: OAuthWorld): Promise<void> {
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok((doc?.tokens?.expiresAt ?? 0) > Date.now(), "the refreshed token is stored");
}

Deno.test("exec with an in-process gateway refreshes an expired OAuth token once for 20 calls", async () => {
  await using world = await startWorld();
  await login(world);
  const assertNoStaleToken = await expireStoredToken(world);
  const before = refreshCount(world);

  const result = await runCli(["exec", "--config", world.configPath, PROGRAM], {
    home: world.home,
  });

  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), EXPECTED);
  assert.equal(refreshCount(world) - before, 1, "refresh_token requests at the AS");
  assertNoStaleToken();
  await assertFreshTokenStored(world);
});

Deno.test("exec through a running gateway refreshes a token that expired under it once for 20 calls", async () => {
  await using world = await startWorld();
  await login(world);
  const before = refreshCount(world);
  await using gateway = spawnCli(["gateway", "--config", world.configPath, "--port", "0"], {
    home: world.home,
  });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  // The gateway connected with the valid token; the program's calls meet the expired one,
  // once the gateway's credential watch has seen the stored document change.
  const assertNoStaleToken = await expireStoredToken(world);
  await gateway.waitForLine(/credentials of server "demo" changed/, { stream: "stderr" });

  const result = await runCli(["exec", PROGRAM], {
    home: world.home,
    env: { TOOLSCRIPT_GATEWAY_URL: url },
  });

  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), EXPECTED);
  assert.equal(refreshCount(world) - before, 1, "refresh_token requests at the AS");
  assertNoStaleToken();
  await assertFreshTokenStored(world);
});
