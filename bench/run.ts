/**
 * `deno task bench [--quick] [--only group,…]`: measures toolscript side by side with a
 * baseline in the same run and prints one markdown table (date and machine above it); writes
 * the same as JSON to `bench/results/latest.json`. Progress goes to stderr.
 *
 * Groups: overhead, floor, auth, tokens, startup, memory, peer, codemode, search, toolslist, redis. Benchmarks are never tests:
 * nothing here fails on a slow figure.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "./_context.ts";
import { benchOverhead } from "./_overhead.ts";
import { benchFloor } from "./_floor.ts";
import { benchAuth } from "./_auth.ts";
import { benchTokens } from "./_tokens.ts";
import { benchStartup } from "./_startup.ts";
import { benchMemory } from "./_memory.ts";
import { benchPeer } from "./_peer.ts";
import { benchCodeMode } from "./_codemode.ts";
import { benchSearch } from "./_search.ts";
import { benchToolsList } from "./_tokens_list.ts";
import { benchRedis } from "./_redis.ts";
import {
  type BenchReport,
  type BenchRow,
  type MachineInfo,
  renderHeader,
  renderTable,
} from "./_table.ts";

type Group = (ctx: BenchContext) => Promise<BenchRow[]>;

const GROUPS: Record<string, { title: string; run: Group }> = {
  overhead: { title: "1 Gateway overhead", run: benchOverhead },
  floor: { title: "1d Floor: a byte relay", run: benchFloor },
  auth: { title: "2 Auth overhead", run: benchAuth },
  tokens: { title: "3 Token economy", run: benchTokens },
  startup: { title: "4 Startup", run: benchStartup },
  memory: { title: "5 Memory", run: benchMemory },
  peer: { title: "6 Peer: mcp-remote", run: benchPeer },
  codemode: { title: "7 Code mode", run: benchCodeMode },
  search: { title: "8 Search quality", run: benchSearch },
  toolslist: { title: "9 tools/list size", run: benchToolsList },
  redis: { title: "10 Shared store", run: benchRedis },
};

async function machineInfo(): Promise<MachineInfo> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() ?? Deno.build.arch;
  return {
    cores: navigator.hardwareConcurrency,
    memoryMiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 20),
    cpu,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    loadAverage: Deno.loadavg(),
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
  });
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((name) => !(name in GROUPS)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown group ${unknown.join(", ")}; groups: ${Object.keys(GROUPS).join(", ")}`);
    return 2;
  }
  const started = performance.now();
  const ctx: BenchContext = {
    quick: values.quick,
    progress: (message) =>
      console.error(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`),
  };
  const date = new Date().toISOString();
  const machine = await machineInfo();
  const rows: BenchRow[] = [];
  for (const [name, group] of Object.entries(GROUPS)) {
    if (only && !only.includes(name)) continue;
    ctx.progress(`${group.title}…`);
    try {
      rows.push(...await group.run(ctx));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      ctx.progress(`${group.title} failed: ${message}`);
      rows.push({
        group: group.title,
        measure: "(group failed)",
        subject: "–",
        baseline: "–",
        ideal: "–",
        unavailable: `error: ${message.split("\n")[0].slice(0, 200)}`,
      });
    }
  }
  const report: BenchReport = {
    date,
    quick: values.quick,
    machine,
    durationSeconds: (performance.now() - started) / 1000,
    rows,
  };
  const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
  await Deno.mkdir(resultsDir, { recursive: true });
  await Deno.writeTextFile(`${resultsDir}latest.json`, JSON.stringify(report, null, 2) + "\n");
  console.log(`${renderHeader(report)}\n\n${renderTable(rows)}`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
