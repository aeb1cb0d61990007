/**
 * Row group 1, gateway overhead: the SDK echo tool called directly and through
 * `toolscript gateway` (a separate process), interleaved, at concurrency 1 and 32; once with
 * the streamable HTTP upstream (its own process) and once with a stdio upstream.
 */
import type { BenchContext } from "./_context.ts";
import { compareRows } from "./_compare.ts";
import { type Call, interleavedConcurrent, interleavedSequential } from "./_measure.ts";
import {
  connectHttp,
  connectStdio,
  echoCall,
  scratchDir,
  spawnGateway,
  spawnUpstream,
  writeConfig,
} from "./_procs.ts";
import type { BenchRow } from "./_table.ts";
import { stdioServerCommand } from "../tests/fixtures/stdio_server.ts";

/** Concurrency of the loaded measurement. */
export const HIGH_CONCURRENCY = 32;

/** Sample counts for a full and a quick run. */
export function overheadBudget(quick: boolean) {
  return quick
    ? { samples: 300, warmup: 50, blockMs: 500, blocks: 2, warmupMs: 300 }
    : { samples: 2000, warmup: 200, blockMs: 1000, blocks: 6, warmupMs: 1000 };
}

/** Measures `gateway` against `direct` at concurrency 1 and {@link HIGH_CONCURRENCY}. */
export async function gatewayVsDirect(
  ctx: BenchContext,
  group: string,
  gateway: Call,
  direct: Call,
): Promise<BenchRow[]> {
  const budget = overheadBudget(ctx.quick);
  const labels = { group, subject: "gateway", baseline: "direct" };
  ctx.progress(`${group}: concurrency 1`);
  const [g1, d1] = await interleavedSequential([gateway, direct], budget);
  ctx.progress(`${group}: concurrency ${HIGH_CONCURRENCY}`);
  const [gN, dN] = await interleavedConcurrent([gateway, direct], {
    concurrency: HIGH_CONCURRENCY,
    ...budget,
  });
  return [
    ...compareRows({ ...labels, suffix: "c=1" }, g1, d1),
    ...compareRows({ ...labels, suffix: `c=${HIGH_CONCURRENCY}` }, gN, dN),
  ];
}

/** Row group 1 for both upstream transports. */
export async function benchOverhead(ctx: BenchContext): Promise<BenchRow[]> {
  return [...await httpOverhead(ctx), ...await stdioOverhead(ctx)];
}

async function httpOverhead(ctx: BenchContext): Promise<BenchRow[]> {
  await using dir = await scratchDir("overhead-http");
  await using upstream = await spawnUpstream();
  const config = await writeConfig(dir.path, "http", {
    echo: { type: "http", url: upstream.url },
  });
  await using gateway = await spawnGateway(config, dir.path);
  await using direct = await connectHttp(upstream.url);
  await using through = await connectHttp(gateway.url);
  return await gatewayVsDirect(
    ctx,
    "1a Gateway overhead, HTTP upstream",
    echoCall(through, "echo__echo"),
    echoCall(direct, "echo"),
  );
}

async function stdioOverhead(ctx: BenchContext): Promise<BenchRow[]> {
  await using dir = await scratchDir("overhead-stdio");
  const command = stdioServerCommand(["--name", "echo"]);
  const config = await writeConfig(dir.path, "stdio", { echo: { type: "stdio", ...command } });
  await using gateway = await spawnGateway(config, dir.path);
  await using direct = await connectStdio(command);
  await using through = await connectHttp(gateway.url);
  return await gatewayVsDirect(
    ctx,
    "1b Gateway overhead, stdio upstream (client → gateway over HTTP)",
    echoCall(through, "echo__echo"),
    echoCall(direct, "echo"),
  );
}
