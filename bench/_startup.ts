/**
 * Row group 4, startup: how long `toolscript gateway` with 20 stdio upstreams takes to print
 * its URL line, against the slowest of the same 20 upstreams started one at a time, against
 * the same 20 started in parallel without a gateway, and against a gateway with one upstream.
 * An upstream counts as started once it answered `initialize` and `tools/list` (what the
 * gateway waits for). The measurements of each round are taken back to back.
 */
import type { BenchContext } from "./_context.ts";
import { median } from "./_measure.ts";
import { connectStdio, scratchDir, spawnGateway, writeConfig } from "./_procs.ts";
import { type BenchRow, formatMs } from "./_table.ts";
import { stdioServerCommand } from "../tests/fixtures/stdio_server.ts";

const GROUP = "4 Startup (stdio upstreams)";

/** Number of upstreams in the startup and memory rows. */
export const UPSTREAM_COUNT = 20;

/** A config entry per upstream: `s0` … `s<n-1>`, each the stdio echo fixture. */
export function stdioServers(count: number): Record<string, unknown> {
  const servers: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    servers[`s${i}`] = { type: "stdio", ...stdioServerCommand(["--name", `s${i}`]) };
  }
  return servers;
}

/** Spawns one upstream, waits for `initialize` and `tools/list`; returns ms, then stops it. */
async function startOne(index: number): Promise<number> {
  const start = performance.now();
  await using client = await connectStdio(stdioServerCommand(["--name", `s${index}`]));
  await client.listTools();
  return performance.now() - start;
}

/** Starts `count` upstreams at once; returns ms until the last answered. */
async function startParallel(count: number): Promise<number> {
  const start = performance.now();
  const clients = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = await connectStdio(stdioServerCommand(["--name", `s${i}`]));
      await client.listTools();
      return client;
    }),
  );
  const elapsed = performance.now() - start;
  await Promise.all(clients.map((c) => c.close()));
  return elapsed;
}

/** Spawns the gateway over `count` upstreams; returns ms until its URL line and how many are ok. */
async function startGateway(dir: string, count: number): Promise<{ ms: number; ok: number }> {
  const config = await writeConfig(dir, `startup-${count}`, stdioServers(count));
  await using home = await scratchDir("startup-home");
  await using gateway = await spawnGateway(config, home.path);
  const health = await fetch(gateway.url.replace(/\/mcp$/, "/health"));
  const body = await health.json() as { servers: { state: string }[] };
  return { ms: gateway.readyMs, ok: body.servers.filter((s) => s.state === "ok").length };
}

/** Row group 4. */
export async function benchStartup(ctx: BenchContext): Promise<BenchRow[]> {
  const rounds = ctx.quick ? 1 : 3;
  await using dir = await scratchDir("startup");
  ctx.progress(`${GROUP}: warm-up`);
  await startOne(0);
  await startGateway(dir.path, 1);
  const gateway20: number[] = [];
  const gateway1: number[] = [];
  const slowestSingle: number[] = [];
  const parallel: number[] = [];
  let notOk = 0;
  for (let round = 0; round < rounds; round++) {
    ctx.progress(`${GROUP}: round ${round + 1} of ${rounds}`);
    const big = await startGateway(dir.path, UPSTREAM_COUNT);
    gateway20.push(big.ms);
    notOk += UPSTREAM_COUNT - big.ok;
    const singles: number[] = [];
    for (let i = 0; i < UPSTREAM_COUNT; i++) singles.push(await startOne(i));
    slowestSingle.push(Math.max(...singles));
    parallel.push(await startParallel(UPSTREAM_COUNT));
    gateway1.push((await startGateway(dir.path, 1)).ms);
  }
  const g = median(gateway20);
  const failed = notOk > 0 ? ` (${notOk} upstream starts not ok)` : "";
  const subject = `gateway ${formatMs(g)}${failed}`;
  const raw = {
    rounds,
    gateway20Ms: g,
    slowestSingleMs: median(slowestSingle),
    parallel20Ms: median(parallel),
    gateway1Ms: median(gateway1),
    upstreamsNotOk: notOk,
  };
  const row = (baseline: string, baselineMs: number, ideal: string): BenchRow => ({
    group: GROUP,
    measure: `time to URL line, ${UPSTREAM_COUNT} upstreams`,
    subject,
    baseline: `${baseline} ${formatMs(baselineMs)}`,
    ratio: g / baselineMs,
    ideal,
    raw,
  });
  return [
    row("slowest single upstream start", raw.slowestSingleMs, "≈ 1, not 20"),
    row(`${UPSTREAM_COUNT} upstreams started in parallel, no gateway`, raw.parallel20Ms, "≈ 1"),
    row("gateway with 1 upstream", raw.gateway1Ms, "≈ 1"),
  ];
}
