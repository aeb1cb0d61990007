/**
 * Row group 5, memory: resident set size (`VmRSS`) of the gateway process with 20 stdio
 * upstreams, idle and at its peak under load (32 callers spread over all 20 upstreams),
 * beside the RSS of one of its upstream processes (a Deno process running the SDK server).
 */
import type { BenchContext } from "./_context.ts";
import { median, runLoad, type Samples } from "./_measure.ts";
import {
  childPids,
  connectHttp,
  echoCall,
  readRssKiB,
  scratchDir,
  spawnGateway,
  writeConfig,
} from "./_procs.ts";
import { type BenchRow, formatMiB } from "./_table.ts";
import { stdioServers, UPSTREAM_COUNT } from "./_startup.ts";
import { HIGH_CONCURRENCY } from "./_overhead.ts";

const GROUP = "5 Memory (gateway RSS, 20 stdio upstreams)";

/** Samples `read` every `intervalMs` until `done` settles; returns every reading. */
async function sampleWhile(
  read: () => Promise<number>,
  intervalMs: number,
  done: Promise<unknown>,
): Promise<number[]> {
  const readings: number[] = [];
  let finished = false;
  const end = done.finally(() => finished = true);
  while (!finished) {
    readings.push(await read());
    await Promise.race([end, new Promise((resolve) => setTimeout(resolve, intervalMs))]);
  }
  await end;
  return readings;
}

/** Row group 5. */
export async function benchMemory(ctx: BenchContext): Promise<BenchRow[]> {
  const loadMs = ctx.quick ? 2000 : 6000;
  const idleMs = ctx.quick ? 500 : 1500;
  await using dir = await scratchDir("memory");
  const config = await writeConfig(dir.path, "memory", stdioServers(UPSTREAM_COUNT));
  await using gateway = await spawnGateway(config, dir.path);
  await using client = await connectHttp(gateway.url);
  await client.listTools();
  const rss = () => readRssKiB(gateway.pid);
  ctx.progress(`${GROUP}: idle`);
  const idle = median(
    await sampleWhile(rss, 100, new Promise((resolve) => setTimeout(resolve, idleMs))),
  );
  const children = await childPids(gateway.pid);
  const upstreamRss = median(await Promise.all(children.map(readRssKiB)));

  ctx.progress(`${GROUP}: ${HIGH_CONCURRENCY} callers for ${loadMs} ms`);
  const calls = Array.from({ length: UPSTREAM_COUNT }, (_, i) => echoCall(client, `s${i}__echo`));
  let next = 0;
  const samples: Samples = { latenciesMs: [], failures: 0, elapsedMs: 0 };
  const load = runLoad(() => calls[next++ % calls.length](), HIGH_CONCURRENCY, loadMs, samples);
  const peak = Math.max(...await sampleWhile(rss, 100, load));
  const failed = samples.failures > 0 ? ` (${samples.failures} calls failed)` : "";
  const raw = {
    idleKiB: idle,
    peakKiB: peak,
    upstreamKiB: upstreamRss,
    upstreamProcesses: children.length,
    calls: samples.latenciesMs.length + samples.failures,
    failures: samples.failures,
  };
  return [
    {
      group: GROUP,
      measure: "idle RSS vs one upstream process",
      subject: `gateway idle ${formatMiB(idle)}`,
      baseline: `one stdio upstream ${formatMiB(upstreamRss)}`,
      ratio: idle / upstreamRss,
      ideal: "≈ 1",
      raw,
    },
    {
      group: GROUP,
      measure: `peak RSS under load (${HIGH_CONCURRENCY} callers, ${raw.calls} calls) vs idle`,
      subject: `gateway peak ${formatMiB(peak)}${failed}`,
      baseline: `gateway idle ${formatMiB(idle)}`,
      ratio: peak / idle,
      target: { op: "≤", value: 1.5 },
      ideal: "≈ 1",
      raw,
    },
  ];
}
