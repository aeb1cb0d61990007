/**
 * Faults and bad input: upstreams that fail in every way we know, bad requests to the gateway,
 * broken configs and secret files. Each case asserts a clear error, no crash and the next call
 * served; each spec then searches everything it captured for the canary secrets it planted and
 * prints `faults tried: N, survived: N, secrets leaked: 0`. Every spec keeps its own log, so each
 * passes or fails alone (`--filter`).
 *
 * Cases marked `ignore` (each with a `// PRODUCT GAP:` comment) expect behaviour the product
 * does not have yet; `FAULTS_RUN_GAPS=1 deno test -A tests/reliability/faults_test.ts` runs
 * them too, to check a fix.
 */
import assert from "node:assert/strict";
import { makeScratchDir } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { type FaultCase, FaultLog } from "./_fault_log.ts";
import { openUpstreamBench, UPSTREAM_FAULTS } from "./_upstream_faults.ts";
import { GATEWAY_INPUT_FAULTS, openGatewayInputBench } from "./_gateway_input.ts";
import { CONFIG_FAULTS } from "./_config_faults.ts";
import { AUTH_FAULTS, openAuthBench } from "./_auth_faults.ts";

const runGaps = Deno.env.get("FAULTS_RUN_GAPS") === "1";

/** Runs each case as a test step, recording it in the log; `after` runs after each case. */
async function runCases<Bench>(
  t: Deno.TestContext,
  log: FaultLog,
  cases: FaultCase<Bench>[],
  bench: Bench,
  after: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  for (const fault of cases) {
    await t.step({
      name: fault.name,
      ignore: fault.ignore && !runGaps,
      fn: async () => {
        if (fault.recordsOwnFaults) await fault.run(bench);
        else await log.fault(fault.name, () => fault.run(bench));
        await after();
      },
    });
  }
  assertClean(log, cases.some((fault) => !fault.ignore || runGaps));
}

/** Every fault tried was survived, and no canary secret appears in anything captured. */
function assertClean(log: FaultLog, ran: boolean): void {
  console.log(log.summary());
  if (ran) assert.ok(log.tried.length > 0 && log.captureCount > 0, "the cases ran and captured");
  assert.deepEqual(log.leaks(), []);
  assert.equal(
    log.survived.length,
    log.tried.length,
    `not survived: ${log.tried.filter((f) => !log.survived.includes(f)).join("; ")}`,
  );
}

Deno.test("upstream faults fail one call with a clear error and never the gateway", async (t) => {
  const log = new FaultLog();
  await using dir = await makeScratchDir();
  await using bench = await openUpstreamBench(dir.path, log);
  await runCases(t, log, UPSTREAM_FAULTS, bench, () => bench.gateway.assertAlive());
});

Deno.test("bad input to the gateway is refused clearly and the session survives", async (t) => {
  const log = new FaultLog();
  await using dir = await makeScratchDir();
  await using bench = await openGatewayInputBench(dir.path, log);
  await runCases(t, log, GATEWAY_INPUT_FAULTS, bench, async () => {
    await bench.gateway.assertAlive();
    await bench.gateway.assertEchoes("local__echo");
  });
});

Deno.test("config faults exit with a clear error naming file and JSON path", async (t) => {
  const log = new FaultLog();
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  await runCases(t, log, CONFIG_FAULTS, { dir: dir.path, web, log });
});

Deno.test("credential faults name the server and what to do, and spare the others", async (t) => {
  const log = new FaultLog();
  await using dir = await makeScratchDir();
  await using bench = await openAuthBench(dir.path, log);
  await runCases(t, log, AUTH_FAULTS, bench, () => bench.gateway.assertAlive());
});
