/**
 * Row group 1d, the floor of one more hop: the same echo calls as `1a` and `1c`, through a
 * byte relay in place of the gateway (a Deno process that copies bytes both ways and parses
 * nothing: bench/_relay_tcp.ts, bench/_relay_stdio.ts, with the gateway's own byte I/O),
 * against the direct calls, interleaved. What a relay costs is what any gateway process on this
 * machine must pay at least, so these ratios show how far the targets of `1a` and `1c` are from
 * what the machine allows.
 */
import type { BenchContext } from "./_context.ts";
import { gatewayVsDirect, HIGH_CONCURRENCY } from "./_overhead.ts";
import {
  connectHttp,
  connectStdio,
  denoScript,
  echoCall,
  spawnReady,
  spawnUpstream,
} from "./_procs.ts";
import type { BenchRow } from "./_table.ts";
import { stdioServerCommand } from "../tests/fixtures/stdio_server.ts";

const RELAY_TCP = new URL("./_relay_tcp.ts", import.meta.url).pathname;
const RELAY_STDIO = new URL("./_relay_stdio.ts", import.meta.url).pathname;
/** The rows kept: the two the targets are about, and the relay's CPU per call. */
const KEPT = new Set([
  "p50 latency, c=1",
  `throughput, c=${HIGH_CONCURRENCY}`,
  "CPU per call, c=1",
  `CPU per call, c=${HIGH_CONCURRENCY}`,
]);

/** Row group 1d. */
export async function benchFloor(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  {
    await using upstream = await spawnUpstream();
    await using relay = await spawnReady({
      ...denoScript(RELAY_TCP, [upstream.url]),
      readyLine: /^RELAY_URL=(\S+)$/,
    });
    await using direct = await connectHttp(upstream.url);
    await using through = await connectHttp(relay.url);
    rows.push(
      ...await gatewayVsDirect(
        ctx,
        "1d Floor: a byte relay in place of the gateway, HTTP upstream (as 1a)",
        echoCall(through, "echo"),
        echoCall(direct, "echo"),
        {
          subject: "relay",
          processes: { gateway: relay.pid, server: upstream.pid, serverShared: true },
        },
      ),
    );
  }
  {
    const command = stdioServerCommand(["--name", "echo"]);
    await using direct = await connectStdio(command);
    await using through = await connectStdio(
      denoScript(RELAY_STDIO, [command.command, ...command.args]),
    );
    rows.push(
      ...await gatewayVsDirect(
        ctx,
        "1d Floor: a byte relay in place of the gateway, stdio (as 1c)",
        echoCall(through, "echo"),
        echoCall(direct, "echo"),
        {
          subject: "relay",
          processes: through.pid && direct.pid
            ? { gateway: through.pid, server: direct.pid, serverShared: false }
            : undefined,
        },
      ),
    );
  }
  return rows.filter((row) => KEPT.has(row.measure));
}
