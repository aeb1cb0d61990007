/**
 * Row group 3, token economy: upstreams whose tokens live only a second or two, 64 concurrent
 * callers for 5 lifetimes. client_credentials through one gateway; OAuth (one login by the
 * authorization code flow, rotating refresh tokens) through two gateway processes sharing the
 * credential store. Counts the token requests the authorization server saw from the gateways'
 * start to the end of the load (ideal: one per refresh window, 5 lifetimes ÷ `refreshAt` 0.8 =
 * 6.25, for the two OAuth processes together) and the calls that failed for a caller (ideal:
 * none).
 */
import type { BenchContext } from "./_context.ts";
import { runLoad, type Samples } from "./_measure.ts";
import { connectHttp, echoCall, scratchDir, spawnGateway, writeConfig } from "./_procs.ts";
import {
  CC_CLIENT,
  CREDENTIAL_MODULES,
  isBuilt,
  SCOPE,
  startProtectedEcho,
  unavailableReason,
} from "./_protected_echo.ts";
import type { BenchRow } from "./_table.ts";
import { callCount, refreshRows, unavailableRefreshRows } from "./_refresh_rows.ts";
import { benchOAuthRefreshes } from "./_tokens_oauth.ts";

const GROUP = "3 Token economy (client_credentials, 64 callers)";
const CALLERS = 64;
const LIFETIMES = 5;
/** The config default of `refreshAt`. */
const REFRESH_AT = 0.8;
/** A call slower than this counts as failed (a healthy one takes milliseconds). */
const CALL_TIMEOUT_MS = 5000;

/** Row group 3. */
export async function benchTokens(ctx: BenchContext): Promise<BenchRow[]> {
  return [...await benchClientCredentials(ctx), ...await benchOAuthRefreshes(ctx)];
}

async function benchClientCredentials(ctx: BenchContext): Promise<BenchRow[]> {
  const lifetimeSeconds = ctx.quick ? 1 : 2;
  const names = {
    group: GROUP,
    requestsMeasure: `token requests over ${LIFETIMES} lifetimes of ${lifetimeSeconds} s`,
    failuresMeasure: "caller-visible failures",
  };
  if (!await isBuilt(CREDENTIAL_MODULES.clientCredentials)) {
    return unavailableRefreshRows(names, "not built yet");
  }
  await using dir = await scratchDir("tokens");
  await using echo = await startProtectedEcho({ accessTokenTtlSeconds: lifetimeSeconds });
  const config = await writeConfig(dir.path, "tokens", {
    cc: {
      type: "http",
      url: echo.url,
      auth: {
        type: "client_credentials",
        tokenUrl: echo.as.tokenEndpoint,
        clientId: CC_CLIENT.id,
        clientSecret: CC_CLIENT.secret,
        scopes: [SCOPE],
        resource: echo.url,
        refreshAt: REFRESH_AT,
      },
    },
  });
  const before = echo.clientCredentialsRequests();
  const rejectedBefore = echo.rejectedTokens();
  const started = performance.now();
  await using gateway = await spawnGateway(config, dir.path);
  await using client = await connectHttp(gateway.url);
  // A call stuck behind a failed refresh would otherwise hold the run for the SDK's 60 s.
  const call = echoCall(client, "cc__echo", CALL_TIMEOUT_MS);
  try {
    await call(); // one probe; the gateway fetched its first token while starting
  } catch (error) {
    return unavailableRefreshRows(names, unavailableReason(error));
  }
  ctx.progress(`${GROUP}: ${CALLERS} callers for ${LIFETIMES * lifetimeSeconds} s`);
  const samples: Samples = { latenciesMs: [], failures: 0, elapsedMs: 0 };
  await runLoad(
    call,
    CALLERS,
    LIFETIMES * lifetimeSeconds * 1000,
    samples,
  );
  const windowSeconds = (performance.now() - started) / 1000;
  const requests = echo.clientCredentialsRequests() - before;
  const rejected = echo.rejectedTokens() - rejectedBefore;
  const ideal = LIFETIMES / REFRESH_AT;
  const raw = {
    tokenRequests: requests,
    rejectedTokenUses: rejected,
    idealTokenRequests: ideal,
    windowSeconds,
    calls: callCount(samples),
    failures: samples.failures,
    lifetimeSeconds,
    callers: CALLERS,
  };
  return refreshRows({
    ...names,
    requests,
    subject: `${requests} token requests (${rejected} requests refused for an expired token)`,
    lifetimes: LIFETIMES,
    refreshAt: REFRESH_AT,
    samples,
    raw,
  });
}
