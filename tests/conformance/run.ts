/**
 * `deno task conformance`: runs the pinned MCP conformance suite's client scenarios against
 * toolscript (`client.ts`), one line per scenario and a total `N passed, N failed`. Exits 1
 * when a scenario fails unexpectedly or an expected failure passes.
 *
 * Usage: deno task conformance [--scenario <name>]… [--concurrency N] [--timeout SECONDS]
 *                              [--spec-version <version>] [--verbose] [--list]
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { listClientScenarios, runScenario, SUITE_VERSION } from "./_suite.ts";
import {
  formatResult,
  formatSummary,
  judge,
  parseExpectedFailures,
  type ScenarioResult,
  summarize,
} from "./_report.ts";

/** The scenarios issue 7 asks for: every `auth/*` plus the transport and schema ones. */
const SELECTED = /^(auth\/.+|initialize|tools_call|sse-retry|json-schema-.+|http-.+-headers)$/;

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scenario: { type: "string", multiple: true },
      concurrency: { type: "string", default: "4" },
      timeout: { type: "string", default: "20" },
      "spec-version": { type: "string" },
      verbose: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
    },
  });
  const concurrency = Math.max(1, Number(values.concurrency) || 1);
  const clientTimeoutMs = Math.max(1, Number(values.timeout) || 20) * 1000;
  const expected = parseExpectedFailures(
    await Deno.readTextFile(join(here, "expected_failures.json")),
  );

  const available = await listClientScenarios(repo);
  const scenarios = values.scenario?.length
    ? values.scenario
    : available.filter((name) => SELECTED.test(name));
  const unknown = scenarios.filter((name) => !available.includes(name));
  if (unknown.length) {
    console.error(`Unknown scenario(s) for suite ${SUITE_VERSION}: ${unknown.join(", ")}`);
    return 2;
  }
  if (values.list) {
    for (const name of scenarios) console.log(name);
    return 0;
  }
  for (const name of Object.keys(expected)) {
    if (!available.includes(name)) {
      console.log(
        `WARN expected_failures.json lists "${name}", which suite ${SUITE_VERSION} lacks`,
      );
    }
  }

  const command = [
    Deno.execPath(),
    "run",
    "-A",
    "--config",
    join(repo, "deno.json"),
    `--lock=${join(repo, "deno.test.lock")}`,
    join(here, "client.ts"),
  ].join(" ");
  console.log(
    `MCP conformance suite ${SUITE_VERSION}: ${scenarios.length} client scenarios` +
      (values["spec-version"] ? ` at spec version ${values["spec-version"]}` : ""),
  );

  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const index = next++;
      const run = await runScenario({
        scenario: scenarios[index],
        command,
        clientTimeoutMs,
        specVersion: values["spec-version"],
        cwd: repo,
      });
      const result = judge(run, expected);
      results[index] = result;
      console.log(formatResult(result, values.verbose));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, scenarios.length) }, worker));

  const summary = summarize(results);
  console.log(formatSummary(summary));
  return summary.failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  Deno.exitCode = await main();
}
