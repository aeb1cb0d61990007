/**
 * Row group 2, auth overhead: one gateway process with the same echo tool reachable four
 * ways (no auth; static bearer; a stored OAuth token; a cached client_credentials token),
 * called interleaved at concurrency 1. Each credentialed p50 is divided by the no-auth p50.
 * Kinds whose provider module has not landed yet print `n/a (not built yet)`.
 */
import type { BenchContext } from "./_context.ts";
import { type Call, interleavedSequential, summarize } from "./_measure.ts";
import { connectHttp, echoCall, scratchDir, spawnGateway, writeConfig } from "./_procs.ts";
import {
  CC_CLIENT,
  CREDENTIAL_MODULES,
  isBuilt,
  OAUTH_CLIENT,
  SCOPE,
  startProtectedEcho,
  unavailableReason,
} from "./_protected_echo.ts";
import { type BenchRow, formatMs, unavailableRow } from "./_table.ts";
import { startHttpMcpServer } from "../tests/fixtures/http_server.ts";

const GROUP = "2 Auth overhead (through the gateway, cached credentials)";

interface Kind {
  server: string;
  label: string;
  /** Module that must exist for this kind; undefined when always available. */
  module?: string;
}

const KINDS: Kind[] = [
  { server: "bearer", label: "static bearer" },
  { server: "oauth", label: "OAuth stored token", module: CREDENTIAL_MODULES.oauth },
  {
    server: "cc",
    label: "client_credentials cached token",
    module: CREDENTIAL_MODULES.clientCredentials,
  },
];

/** Row group 2. */
export async function benchAuth(ctx: BenchContext): Promise<BenchRow[]> {
  const budget = ctx.quick ? { samples: 300, warmup: 50 } : { samples: 2000, warmup: 200 };
  await using dir = await scratchDir("auth");
  await using plain = await startHttpMcpServer({ name: "echo" });
  await using echo = await startProtectedEcho();
  const missing = new Map<string, string>();
  const servers: Record<string, unknown> = { plain: { type: "http", url: plain.url } };
  for (const kind of KINDS) {
    if (kind.module && !await isBuilt(kind.module)) {
      missing.set(kind.server, "not built yet");
      continue;
    }
    servers[kind.server] = { type: "http", url: echo.url, auth: authBlock(kind.server, echo) };
  }
  if (servers.oauth) await echo.storeOAuthToken(dir.path, "oauth");
  const config = await writeConfig(dir.path, "auth", servers);
  await using gateway = await spawnGateway(config, dir.path);
  await using client = await connectHttp(gateway.url);

  const sides: { kind?: Kind; call: Call }[] = [{ call: echoCall(client, "plain__echo") }];
  for (const kind of KINDS) {
    if (missing.has(kind.server)) continue;
    const call = echoCall(client, `${kind.server}__echo`);
    try {
      await call();
      sides.push({ kind, call });
    } catch (error) {
      missing.set(kind.server, unavailableReason(error));
    }
  }
  ctx.progress(`${GROUP}: ${sides.length} sides interleaved`);
  const samples = await interleavedSequential(sides.map((s) => s.call), budget);
  const base = summarize(samples[0]);
  const rows: BenchRow[] = [];
  for (const kind of KINDS) {
    const measure = `p50 latency, c=1: ${kind.label}`;
    const reason = missing.get(kind.server);
    const index = sides.findIndex((s) => s.kind === kind);
    if (reason !== undefined || index < 0) {
      rows.push(unavailableRow(GROUP, measure, "≈ 1", reason ?? "not measured"));
      continue;
    }
    const s = summarize(samples[index]);
    const failed = s.failures > 0 ? ` (${s.failures} failed)` : "";
    rows.push({
      group: GROUP,
      measure,
      subject: `${kind.label} ${formatMs(s.p50Ms)}${failed}`,
      baseline: `no auth ${formatMs(base.p50Ms)}`,
      ratio: s.p50Ms / base.p50Ms,
      ideal: "≈ 1",
      raw: { subjectMs: s.p50Ms, baselineMs: base.p50Ms, n: s.n, failures: s.failures },
    });
  }
  return rows;
}

function authBlock(
  server: string,
  echo: { staticToken: string; url: string; as: { tokenEndpoint: string } },
) {
  switch (server) {
    case "bearer":
      return { type: "bearer", token: echo.staticToken };
    case "oauth":
      return { type: "oauth", clientId: OAUTH_CLIENT.id, scopes: [SCOPE] };
    default:
      return {
        type: "client_credentials",
        tokenUrl: echo.as.tokenEndpoint,
        clientId: CC_CLIENT.id,
        clientSecret: CC_CLIENT.secret,
        scopes: [SCOPE],
        resource: echo.url,
      };
  }
}
