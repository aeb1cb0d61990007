/**
 * Row group 1, gateway overhead: the SDK echo tool called directly and through
 * `toolscript gateway` (a separate process), interleaved, at concurrency 1 and 32: `1a` with
 * the streamable HTTP upstream (its own process), `1b` with a stdio upstream and the client on
 * HTTP, `1c` with a stdio upstream and the client on stdio too (`gateway --stdio` against a
 * direct stdio client, the same client transport on both sides). The release targets stand
 * beside the ratios: p50 at c=1 at most 1.3×, throughput at c=32 at least 0.8× (1a, 1c).
 *
 * Each phase also reads the CPU time the gateway process used per call of its own (the hop's
 * cost, which other work on the machine does not inflate as it does latency) beside the
 * direct server's per call it served.
 */
import type { BenchContext } from "./_context.ts";
import { compareRows } from "./_compare.ts";
import {
  type Call,
  interleavedConcurrent,
  interleavedSequential,
  type Samples,
} from "./_measure.ts";
import {
  childEnv,
  connectHttp,
  connectStdio,
  denoScript,
  echoCall,
  MAIN_TS,
  readCpuMs,
  scratchDir,
  spawnGateway,
  spawnUpstream,
  writeConfig,
} from "./_procs.ts";
import { type BenchRow, type BenchTarget, formatMs } from "./_table.ts";
import { stdioServerCommand } from "../tests/fixtures/stdio_server.ts";

/** Concurrency of the loaded measurement. */
export const HIGH_CONCURRENCY = 32;

/** Sample counts for a full and a quick run. */
export function overheadBudget(quick: boolean) {
  return quick
    ? { samples: 300, warmup: 50, blockMs: 500, blocks: 2, warmupMs: 300 }
    : { samples: 2000, warmup: 200, blockMs: 1000, blocks: 6, warmupMs: 1000 };
}

/** The targets for a gateway-vs-direct comparison with the same client transport. */
const TARGETS: Record<string, BenchTarget> = {
  "p50 latency, c=1": { op: "≤", value: 1.3 },
  [`throughput, c=${HIGH_CONCURRENCY}`]: { op: "≥", value: 0.8 },
};

/** The processes whose CPU time {@link gatewayVsDirect} reads. */
export interface OverheadProcesses {
  /** The gateway process (not its upstream children). */
  gateway: number;
  /** The server the direct side calls. */
  server: number;
  /** True when that server also serves the gateway's calls (one HTTP upstream for both). */
  serverShared: boolean;
}

/** Measures `gateway` against `direct` at concurrency 1 and {@link HIGH_CONCURRENCY}. */
export async function gatewayVsDirect(
  ctx: BenchContext,
  group: string,
  gateway: Call,
  direct: Call,
  options: {
    targets?: boolean;
    processes?: OverheadProcesses;
    /** What stands in the gateway's place, for the labels; default "gateway". */
    subject?: string;
  } = {},
): Promise<BenchRow[]> {
  const budget = overheadBudget(ctx.quick);
  const subject = options.subject ?? "gateway";
  const labels = { group, subject, baseline: "direct" };
  const cpu = cpuMeter(options.processes, subject);
  ctx.progress(`${group}: concurrency 1`);
  const [g1, d1] = await cpu.during(() => interleavedSequential([gateway, direct], budget));
  const cpu1 = cpu.rows(group, "c=1", g1, d1);
  ctx.progress(`${group}: concurrency ${HIGH_CONCURRENCY}`);
  const [gN, dN] = await cpu.during(() =>
    interleavedConcurrent([gateway, direct], { concurrency: HIGH_CONCURRENCY, ...budget })
  );
  const rows = [
    ...compareRows({ ...labels, suffix: "c=1" }, g1, d1),
    ...compareRows({ ...labels, suffix: `c=${HIGH_CONCURRENCY}` }, gN, dN),
  ];
  const cpuN = cpu.rows(group, `c=${HIGH_CONCURRENCY}`, gN, dN);
  const all = [...rows, ...cpu1, ...cpuN];
  return options.targets ? all.map((row) => ({ ...row, target: TARGETS[row.measure] })) : all;
}

/** CPU time per call of the gateway and of the direct server, over one measured phase. */
function cpuMeter(processes: OverheadProcesses | undefined, subject: string) {
  let used = { gateway: NaN, server: NaN };
  return {
    async during<T>(phase: () => Promise<T>): Promise<T> {
      if (!processes) return await phase();
      const before = await Promise.all([readCpuMs(processes.gateway), readCpuMs(processes.server)]);
      const result = await phase();
      const after = await Promise.all([readCpuMs(processes.gateway), readCpuMs(processes.server)]);
      used = { gateway: after[0] - before[0], server: after[1] - before[1] };
      return result;
    },
    rows(group: string, suffix: string, through: Samples, direct: Samples): BenchRow[] {
      if (!processes) return [];
      const calls = (s: Samples) => s.latenciesMs.length + s.failures;
      const gatewayMs = used.gateway / calls(through);
      const served = calls(direct) + (processes.serverShared ? calls(through) : 0);
      const serverMs = used.server / served;
      return [{
        group,
        measure: `CPU per call, ${suffix}`,
        subject: `${subject} ${formatMs(gatewayMs)}`,
        baseline: `server ${formatMs(serverMs)}`,
        ratio: gatewayMs / serverMs,
        ideal: "≈ 0 (the hop's own CPU)",
        raw: { gatewayCpuMs: used.gateway, serverCpuMs: used.server, gatewayMs, serverMs },
      }];
    },
  };
}

/** Row group 1 for both upstream transports. */
export async function benchOverhead(ctx: BenchContext): Promise<BenchRow[]> {
  return [
    ...await httpOverhead(ctx),
    ...await stdioOverhead(ctx),
    ...await stdioToStdioOverhead(ctx),
  ];
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
    {
      targets: true,
      processes: { gateway: gateway.pid, server: upstream.pid, serverShared: true },
    },
  );
}

async function stdioToStdioOverhead(ctx: BenchContext): Promise<BenchRow[]> {
  await using dir = await scratchDir("overhead-stdio-stdio");
  const command = stdioServerCommand(["--name", "echo"]);
  const config = await writeConfig(dir.path, "stdio", { echo: { type: "stdio", ...command } });
  await using direct = await connectStdio(command);
  await using through = await connectStdio({
    ...denoScript(MAIN_TS, ["gateway", "--stdio", "--config", config]),
    env: childEnv({ TOOLSCRIPT_HOME: dir.path }),
  });
  return await gatewayVsDirect(
    ctx,
    "1c Gateway overhead, stdio upstream (client → gateway --stdio)",
    echoCall(through, "echo__echo"),
    echoCall(direct, "echo"),
    { targets: true, processes: stdioProcesses(through.pid, direct.pid) },
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
    { processes: stdioProcesses(gateway.pid, direct.pid) },
  );
}

/** The gateway and a direct stdio server, when both pids are known. */
function stdioProcesses(
  gateway: number | null,
  server: number | null,
): OverheadProcesses | undefined {
  return gateway && server ? { gateway, server, serverShared: false } : undefined;
}
