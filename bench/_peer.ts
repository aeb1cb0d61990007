/**
 * Row group 6, peer: `mcp-remote` (pinned) bridging stdio to the streamable HTTP echo
 * upstream, against `toolscript gateway --stdio` with that one HTTP upstream. The benchmark
 * is the stdio client of both; calls are interleaved.
 */
import type { BenchContext } from "./_context.ts";
import { compareRows } from "./_compare.ts";
import { interleavedConcurrent, interleavedSequential } from "./_measure.ts";
import {
  type BenchClient,
  childEnv,
  connectStdio,
  denoScript,
  echoCall,
  MAIN_TS,
  scratchDir,
  spawnUpstream,
  type StdioOptions,
  writeConfig,
} from "./_procs.ts";
import { type BenchRow, firstLine, unavailableRow } from "./_table.ts";
import { HIGH_CONCURRENCY, overheadBudget } from "./_overhead.ts";

/** The mcp-remote release compared against. */
export const MCP_REMOTE_VERSION = "0.15.1";

const GROUP = `6 Peer: mcp-remote@${MCP_REMOTE_VERSION} (stdio → HTTP bridge)`;

/** The ways to run mcp-remote, in order of preference: on Node via npx, else on Deno. */
function mcpRemoteRunners(url: string, cwd: string, configDir: string) {
  const args = [url, "--transport", "http-only"];
  const env = childEnv({ MCP_REMOTE_CONFIG_DIR: configDir });
  return [
    {
      label: "npx",
      options: {
        command: "npx",
        args: ["-y", `mcp-remote@${MCP_REMOTE_VERSION}`, ...args],
        env,
        cwd,
      },
    },
    {
      label: "deno",
      options: {
        command: Deno.execPath(),
        // Outside the repo and without a lock file, so the bench never touches deno.lock.
        args: [
          "run",
          "-A",
          "--no-config",
          "--no-lock",
          `npm:mcp-remote@${MCP_REMOTE_VERSION}`,
          ...args,
        ],
        env,
        cwd,
      },
    },
  ] satisfies { label: string; options: StdioOptions }[];
}

/** Row group 6. */
export async function benchPeer(ctx: BenchContext): Promise<BenchRow[]> {
  const budget = overheadBudget(ctx.quick);
  await using dir = await scratchDir("peer");
  await using upstream = await spawnUpstream();
  let peer: BenchClient | undefined;
  let runner = "";
  const errors: string[] = [];
  for (const candidate of mcpRemoteRunners(upstream.url, dir.path, dir.path)) {
    ctx.progress(`${GROUP}: starting mcp-remote with ${candidate.label}`);
    try {
      peer = await connectStdio(candidate.options);
      await echoCall(peer, "echo")();
      runner = candidate.label;
      break;
    } catch (error) {
      await peer?.close().catch(() => {});
      peer = undefined;
      errors.push(`${candidate.label}: ${firstLine(error)}`);
    }
  }
  if (!peer) {
    const reason = `mcp-remote did not start: ${errors.join("; ")}`;
    return [unavailableRow(GROUP, "p50 latency, c=1", "≈ 1 or lower", reason)];
  }
  await using _peer = peer;
  const config = await writeConfig(dir.path, "peer", {
    echo: { type: "http", url: upstream.url },
  });
  await using ours = await connectStdio({
    ...denoScript(MAIN_TS, ["gateway", "--stdio", "--config", config]),
    env: childEnv({ TOOLSCRIPT_HOME: dir.path }),
  });
  const toolscript = echoCall(ours, "echo__echo");
  const remote = echoCall(peer, "echo");
  const labels = {
    group: GROUP,
    subject: "toolscript gateway --stdio",
    baseline: `mcp-remote (${runner})`,
  };
  ctx.progress(`${GROUP}: concurrency 1`);
  const [a1, b1] = await interleavedSequential([toolscript, remote], budget);
  ctx.progress(`${GROUP}: concurrency ${HIGH_CONCURRENCY}`);
  const [aN, bN] = await interleavedConcurrent([toolscript, remote], {
    concurrency: HIGH_CONCURRENCY,
    ...budget,
  });
  return [
    ...compareRows({ ...labels, suffix: "c=1" }, a1, b1, ["p50", "p99"]),
    ...compareRows({ ...labels, suffix: `c=${HIGH_CONCURRENCY}` }, aN, bN, ["rate"]),
  ].map((row) => ({
    ...row,
    ideal: row.measure.startsWith("throughput") ? "≥ 1 (higher is better)" : "≤ 1",
  }));
}
