/**
 * Row group 3, the OAuth rows: one login by the authorization code flow (the fixture
 * authorization server issues rotating refresh tokens and access tokens living a second or
 * two), then two gateway processes sharing that login, 32 callers on each for 5 lifetimes.
 * Counts the refresh-token requests of both processes together (ideal: one per refresh
 * window, as for client_credentials) and the calls that failed for a caller.
 */
import { join } from "node:path";
import type { BenchContext } from "./_context.ts";
import { runLoad, type Samples } from "./_measure.ts";
import { connectHttp, echoCall, scratchDir, spawnGateway, writeConfig } from "./_procs.ts";
import { EXPIRY_LEEWAY_MS, SCOPE } from "./_protected_echo.ts";
import { type BenchRow, firstLine } from "./_table.ts";
import { callCount, refreshRows, unavailableRefreshRows } from "./_refresh_rows.ts";
import { completeAuthorizeUrl, startOAuthServer } from "../tests/fixtures/oauth_server.ts";
import { startHttpMcpServer } from "../tests/fixtures/http_server.ts";
import { FileTokenStore } from "../src/auth/store/file_token_store.ts";
import { loginWithOAuth } from "../src/auth/login/oauth_login.ts";
import { remoteServerConfig } from "../tests/_helpers.ts";

const GROUP = "3 Token economy (OAuth refresh, 2 gateways, 64 callers)";
const CALLERS_PER_GATEWAY = 32;
const LIFETIMES = 5;
/** The OAuth provider's default refresh point. */
const REFRESH_AT = 0.8;
const CALL_TIMEOUT_MS = 5000;

/** The OAuth rows of group 3. */
export async function benchOAuthRefreshes(ctx: BenchContext): Promise<BenchRow[]> {
  const lifetimeSeconds = ctx.quick ? 1 : 2;
  const names = {
    group: GROUP,
    requestsMeasure: `refresh requests over ${LIFETIMES} lifetimes of ${lifetimeSeconds} s`,
    failuresMeasure: "caller-visible failures (OAuth)",
  };
  await using dir = await scratchDir("tokens-oauth");
  const home = join(dir.path, "home");
  await using as = await startOAuthServer({
    scopes: [SCOPE],
    accessTokenTtlSeconds: lifetimeSeconds,
  });
  let resource = "";
  let rejected = 0;
  const known = new Map<string, { scopes: string[]; validUntilMs: number }>();
  await using mcp = await startHttpMcpServer({
    name: "echo",
    auth: {
      // As in `_protected_echo.ts`: each token's first introspection is kept, so a token the
      // AS counts as expired up to a second early (whole-second `exp`) gets the leeway.
      verify: async (token) => {
        let entry = known.get(token);
        if (!entry) {
          const verified = await as.verifyAccessToken(token);
          if (!verified || verified.resource?.href !== resource) {
            rejected++;
            return undefined;
          }
          entry = {
            scopes: verified.scopes,
            validUntilMs: verified.expiresAt * 1000 + EXPIRY_LEEWAY_MS,
          };
          known.set(token, entry);
        }
        if (entry.validUntilMs > Date.now()) return { scopes: entry.scopes };
        rejected++;
        return undefined;
      },
      authorizationServers: [as.issuer],
      requiredScopes: [SCOPE],
    },
  });
  resource = mcp.url;
  const trim = setInterval(() => mcp.requests.splice(0), 1000);
  try {
    const config = await writeConfig(dir.path, "tokens-oauth", {
      oa: { type: "http", url: mcp.url, auth: { type: "oauth" } },
    });
    try {
      await logIn(mcp.url, home);
    } catch (error) {
      return unavailableRefreshRows(names, firstLine(error));
    }
    const before = as.counters.tokenByGrant.refresh_token ?? 0;
    const rejectedBefore = rejected;
    const started = performance.now();
    await using first = await spawnGateway(config, home);
    await using second = await spawnGateway(config, home);
    await using a = await connectHttp(first.url);
    await using b = await connectHttp(second.url);
    const calls = [
      echoCall(a, "oa__echo", CALL_TIMEOUT_MS),
      echoCall(b, "oa__echo", CALL_TIMEOUT_MS),
    ];
    ctx.progress(
      `${GROUP}: ${2 * CALLERS_PER_GATEWAY} callers for ${LIFETIMES * lifetimeSeconds} s`,
    );
    const samples: Samples = { latenciesMs: [], failures: 0, elapsedMs: 0 };
    const durationMs = LIFETIMES * lifetimeSeconds * 1000;
    await Promise.all(
      calls.map((call) => runLoad(call, CALLERS_PER_GATEWAY, durationMs, samples)),
    );
    const refreshes = (as.counters.tokenByGrant.refresh_token ?? 0) - before;
    const ideal = LIFETIMES / REFRESH_AT;
    const raw = {
      refreshRequests: refreshes,
      rejectedTokenUses: rejected - rejectedBefore,
      idealRefreshRequests: ideal,
      windowSeconds: (performance.now() - started) / 1000,
      calls: callCount(samples),
      failures: samples.failures,
      lifetimeSeconds,
      gateways: 2,
      callers: 2 * CALLERS_PER_GATEWAY,
    };
    return refreshRows({
      ...names,
      requests: refreshes,
      subject: `${refreshes} refresh requests from 2 processes (${raw.rejectedTokenUses} ` +
        `requests refused for an expired token)`,
      lifetimes: LIFETIMES,
      refreshAt: REFRESH_AT,
      samples,
      raw,
    });
  } finally {
    clearInterval(trim);
  }
}

/** One `toolscript auth`-equivalent login, the browser played by the fixture. */
async function logIn(url: string, home: string): Promise<void> {
  const server = remoteServerConfig(url, { name: "oa", auth: { type: "oauth" } });
  let browser: Promise<Response> | undefined;
  await loginWithOAuth({
    server,
    store: new FileTokenStore({ dir: join(home, "credentials") }),
    signal: AbortSignal.timeout(30_000),
    // Not awaited here: the login answers the callback only after this returns.
    onAuthorizationUrl: (authorizationUrl) => {
      browser = completeAuthorizeUrl(authorizationUrl.href);
    },
  });
  await (await browser)?.body?.cancel();
}
