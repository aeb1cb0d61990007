/**
 * Profiles the gateway on the echo call of bench group 1 and prints where its CPU went.
 *
 * `deno run -A --lock=deno.test.lock bench/profile_gateway.ts [--upstream http|stdio]
 * [--client http|stdio] [--calls N] [--concurrency C] [--top K] [--out DIR]`
 *
 * Starts the echo upstream (HTTP in its own process, or the stdio fixture as the gateway's
 * child), `main.ts gateway` under `--cpu-prof` (over HTTP, or `--stdio` for `--client stdio`),
 * an SDK client, warms up, makes the calls (C at a time), stops the gateway so it writes its
 * profile, and prints the CPU time the gateway used per call (from /proc) and its busiest
 * functions, self and inclusive, as shares of its busy (non-idle) time. Open the
 * `.cpuprofile` in Chrome DevTools for the call tree.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  type BenchClient,
  childEnv,
  connectHttp,
  connectStdio,
  DENO_JSON,
  echoCall,
  MAIN_TS,
  readCpuMs,
  type ReadyProcess,
  REPO_ROOT,
  scratchDir,
  spawnReady,
  spawnUpstream,
  writeConfig,
} from "./_procs.ts";
import { stdioServerCommand } from "../tests/fixtures/stdio_server.ts";

/** A node of a V8 `.cpuprofile`. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A V8 `.cpuprofile`. */
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Busy time per function (self and inclusive, µs) and the profile's busy total. */
export function summarizeProfile(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const name = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*\/(npm|ext|src|dist|bench|tests)\//, "$1/");
    return `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") return;
    busy += us;
    self.set(name(node), (self.get(name(node)) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = name(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  });
  return { busyUs: busy, self, inclusive };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      upstream: { type: "string", default: "http" },
      client: { type: "string", default: "http" },
      calls: { type: "string", default: "3000" },
      concurrency: { type: "string", default: "1" },
      top: { type: "string", default: "30" },
      out: { type: "string" },
    },
  });
  const calls = Number(values.calls);
  const concurrency = Number(values.concurrency);
  await using dir = await scratchDir("profile");
  const out = values.out ?? join(dir.path, "profile");
  const gatewayArgs = [
    "run",
    "-A",
    "-q",
    "--cpu-prof",
    `--cpu-prof-dir=${out}`,
    "--config",
    DENO_JSON,
    `--lock=${join(REPO_ROOT, "deno.test.lock")}`,
    MAIN_TS,
    "gateway",
  ];
  let upstream: ReadyProcess | undefined;
  const server = values.upstream === "stdio"
    ? { type: "stdio", ...stdioServerCommand(["--name", "echo"]) }
    : { type: "http", url: (upstream = await spawnUpstream()).url };
  const config = await writeConfig(dir.path, "profile", { echo: server });
  const env = childEnv({ TOOLSCRIPT_HOME: dir.path });
  let gateway: ReadyProcess | undefined;
  let client: BenchClient;
  let pid: number;
  if (values.client === "stdio") {
    const stdio = await connectStdio({
      command: Deno.execPath(),
      args: [...gatewayArgs, "--stdio", "--config", config],
      env,
    });
    client = stdio;
    pid = stdio.pid!;
  } else {
    gateway = await spawnReady({
      command: Deno.execPath(),
      args: [...gatewayArgs, "--config", config, "--port", "0"],
      env,
      readyLine: /^TOOLSCRIPT_GATEWAY_URL=(\S+)$/,
    });
    client = await connectHttp(gateway.url);
    pid = gateway.pid;
  }
  const call = echoCall(client, "echo__echo");
  for (let i = 0; i < Math.min(500, calls); i++) await call();
  const cpuBefore = await readCpuMs(pid);
  const started = performance.now();
  let left = calls;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await call();
  }));
  const elapsedMs = performance.now() - started;
  const cpuMs = await readCpuMs(pid) - cpuBefore;
  await client.close();
  if (gateway) {
    // SIGINT, as a user stops it: the profile is written on the way out.
    Deno.kill(gateway.pid, "SIGINT");
    await gateway.close();
  }
  await upstream?.close();
  const file = [...Deno.readDirSync(out)].find((entry) => entry.name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`the gateway wrote no profile into ${out}`);
  const summary = summarizeProfile(JSON.parse(await Deno.readTextFile(join(out, file.name))));
  const top = Number(values.top);
  const share = (us: number) => `${(100 * us / summary.busyUs).toFixed(1).padStart(5)} %`;
  const print = (title: string, table: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [key, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${share(us)}  ${key}`);
    }
  };
  console.log(
    `${values.client} client → gateway → ${values.upstream} upstream, ${calls} calls, ` +
      `concurrency ${concurrency}: ${(elapsedMs / calls).toFixed(3)} ms/call wall, ` +
      `gateway CPU ${(cpuMs / calls).toFixed(3)} ms/call (all threads)`,
  );
  console.log(`profile: ${join(out, file.name)} (busy ${(summary.busyUs / 1e6).toFixed(2)} s)`);
  print("self", summary.self);
  print("inclusive", summary.inclusive);
  if (!values.out) console.log(`\n(pass --out DIR to keep the profile)`);
}

if (import.meta.main) await main();
