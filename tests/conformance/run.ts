/**
 * `deno task conformance`: runs the pinned MCP conformance suite in three groups, one line per
 * scenario and a total `N passed, N failed` after each group:
 *
 * - `client`: the client scenarios against toolscript (`client.ts`);
 * - `server`: the server scenarios against the conformance fixture
 *   (tests/fixtures/conformance_server.ts);
 * - `gateway`: the same server scenarios through toolscript's gateway, the fixture its only
 *   server with `"prefix": ""`.
 *
 * Each group has its expected-failures file. Exits 1 when a scenario fails unexpectedly or an
 * expected failure passes, 2 on a usage error, 130 when interrupted.
 *
 * Usage: deno task conformance [--only client|server|gateway]… [--scenario <name>]…
 *                              [--concurrency N] [--timeout SECONDS] [--upstream http|stdio]
 *                              [--spec-version <version>] [--verbose] [--list]
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  listClientScenarios,
  listServerScenarios,
  runScenario,
  runServerScenario,
  runServerSuite,
  type ScenarioRun,
  SERVER_SPEC_VERSION,
  SUITE_VERSION,
} from "./_suite.ts";
import {
  type ExpectedFailures,
  formatResult,
  formatSummary,
  judge,
  parseExpectedFailures,
  type ScenarioResult,
  summarize,
} from "./_report.ts";
import {
  type ServerTarget,
  startFixtureTarget,
  startGatewayTarget,
  type Upstream,
} from "./_server_targets.ts";

/** The client scenarios issue 7 asks for: every `auth/*` plus the transport and schema ones. */
const SELECTED = /^(auth\/.+|initialize|tools_call|sse-retry|json-schema-.+|http-.+-headers)$/;

/** The groups, in the order they run. */
const GROUPS = ["client", "server", "gateway"] as const;
type Group = typeof GROUPS[number];

/** Each group's expected failures, beside this file. */
const EXPECTED_FILES: Record<Group, string> = {
  client: "expected_failures.json",
  server: "expected_failures_server.json",
  gateway: "expected_failures_gateway.json",
};

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");

interface RunOptions {
  concurrency: number;
  timeoutMs: number;
  verbose: boolean;
  signal: AbortSignal;
}

async function main(signal: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string", multiple: true },
      scenario: { type: "string", multiple: true },
      concurrency: { type: "string", default: "4" },
      timeout: { type: "string", default: "20" },
      upstream: { type: "string", default: "http" },
      "spec-version": { type: "string" },
      verbose: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
    },
  });
  const only = values.only ?? [];
  const badGroup = only.find((name) => !(GROUPS as readonly string[]).includes(name));
  if (badGroup !== undefined) {
    console.error(`Unknown group "${badGroup}"; use one of: ${GROUPS.join(", ")}`);
    return 2;
  }
  if (values.upstream !== "http" && values.upstream !== "stdio") {
    console.error(`Unknown upstream "${values.upstream}"; use http or stdio`);
    return 2;
  }
  const upstream: Upstream = values.upstream;
  const groups = GROUPS.filter((group) => only.length === 0 || only.includes(group));
  const options: RunOptions = {
    concurrency: Math.max(1, Number(values.concurrency) || 1),
    timeoutMs: Math.max(1, Number(values.timeout) || 20) * 1000,
    verbose: values.verbose,
    signal,
  };

  const available: Partial<Record<Group, string[]>> = {};
  if (groups.includes("client")) available.client = await listClientScenarios(repo);
  if (groups.includes("server") || groups.includes("gateway")) {
    const server = await listServerScenarios(repo);
    if (groups.includes("server")) available.server = server;
    if (groups.includes("gateway")) available.gateway = server;
  }
  const requested = values.scenario ?? [];
  const unknown = requested.filter((name) => !groups.some((g) => available[g]?.includes(name)));
  if (unknown.length) {
    console.error(
      `Unknown scenario(s) for suite ${SUITE_VERSION} (${groups.join(", ")}): ${
        unknown.join(", ")
      }`,
    );
    return 2;
  }
  const selected = (group: Group): string[] => {
    const names = available[group] ?? [];
    if (requested.length) return names.filter((name) => requested.includes(name));
    return group === "client" ? names.filter((name) => SELECTED.test(name)) : names;
  };
  const plan = groups.map((group) => ({ group, scenarios: selected(group) }))
    .filter(({ scenarios }) => scenarios.length > 0);

  if (values.list) {
    for (const { group, scenarios } of plan) {
      if (plan.length > 1) console.log(`${group}:`);
      for (const name of scenarios) console.log(plan.length > 1 ? `  ${name}` : name);
    }
    return 0;
  }

  let failed = false;
  const needsFixture = plan.some(({ group }) =>
    group === "server" || (group === "gateway" && upstream === "http")
  );
  await using fixture = needsFixture ? await startFixtureTarget() : undefined;
  for (const { group, scenarios } of plan) {
    if (signal.aborted) break;
    const expected = parseExpectedFailures(
      await Deno.readTextFile(join(here, EXPECTED_FILES[group])),
    );
    for (const name of Object.keys(expected)) {
      if (!available[group]?.includes(name)) {
        console.log(
          `WARN ${EXPECTED_FILES[group]} lists "${name}", which suite ${SUITE_VERSION} lacks`,
        );
      }
    }
    const whole = requested.length === 0;
    let summary;
    if (group === "client") {
      summary = await runClientGroup(scenarios, expected, values["spec-version"], options);
    } else if (group === "server") {
      console.log(
        `MCP conformance suite ${SUITE_VERSION}: ${scenarios.length} server scenarios ` +
          `(${SERVER_SPEC_VERSION}) against the fixture, tests/fixtures/conformance_server.ts`,
      );
      summary = await runServerGroup(scenarios, expected, fixture!, group, whole, options);
    } else {
      console.log(
        `MCP conformance suite ${SUITE_VERSION}: ${scenarios.length} server scenarios ` +
          `(${SERVER_SPEC_VERSION}) through the gateway, "prefix": "", fixture over ${upstream}`,
      );
      await using gateway = await startGatewayTarget({
        upstream,
        fixtureUrl: fixture?.url,
        startTimeoutMs: 60_000,
      });
      summary = await runServerGroup(scenarios, expected, gateway, group, whole, options);
      if (options.verbose && gateway.stderr().trim()) {
        const lines = gateway.stderr().split("\n").filter((l) => l.trim()).slice(-40);
        console.log("    gateway stderr:", ...lines.map((l) => `\n      ${l}`));
      }
    }
    console.log(formatSummary(summary));
    if (summary.failed > 0) failed = true;
  }
  if (signal.aborted) return 130;
  return failed ? 1 : 0;
}

async function runClientGroup(
  scenarios: string[],
  expected: ExpectedFailures,
  specVersion: string | undefined,
  options: RunOptions,
) {
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
      (specVersion ? ` at spec version ${specVersion}` : ""),
  );
  return await runPool(scenarios, expected, "client", options, (scenario) =>
    runScenario({
      scenario,
      command,
      clientTimeoutMs: options.timeoutMs,
      specVersion,
      cwd: repo,
      signal: options.signal,
    }));
}

/**
 * The server scenarios against `target`: every one in a single suite process (one start instead
 * of 33), or the requested few `concurrency` at a time.
 */
async function runServerGroup(
  scenarios: string[],
  expected: ExpectedFailures,
  target: ServerTarget,
  group: Group,
  whole: boolean,
  options: RunOptions,
) {
  const url = target.url;
  if (url === undefined) {
    console.log(`    ${target.startError}`);
    const why = "the server under test did not start (see above)";
    return await runPool(
      scenarios,
      expected,
      group,
      options,
      (s) => Promise.resolve(notRun(s, why)),
    );
  }
  if (whole) {
    const runs = await runServerSuite({
      scenarios,
      url,
      scenarioTimeoutMs: options.timeoutMs,
      cwd: repo,
      signal: options.signal,
    });
    const results = runs.map((run) => judge(run, expected));
    for (const result of results) {
      console.log(formatResult(result, options.verbose, expectedFileOf(group)));
    }
    return summarize(results);
  }
  return await runPool(scenarios, expected, group, options, (scenario) =>
    runServerScenario({
      scenario,
      url,
      scenarioTimeoutMs: options.timeoutMs,
      cwd: repo,
      signal: options.signal,
    }));
}

function expectedFileOf(group: Group): string {
  return `tests/conformance/${EXPECTED_FILES[group]}`;
}

/** The run of a scenario whose server never started. */
function notRun(scenario: string, why: string): ScenarioRun {
  return {
    scenario,
    exitCode: -1,
    clientStdout: "",
    clientStderr: "",
    suiteOutput: "",
    notRun: why,
    killed: false,
    durationMs: 0,
  };
}

/** Runs `run` over the scenarios, `concurrency` at a time, printing each verdict as it comes. */
async function runPool(
  scenarios: string[],
  expected: ExpectedFailures,
  group: Group,
  options: RunOptions,
  run: (scenario: string) => Promise<ScenarioRun>,
) {
  const expectedFile = expectedFileOf(group);
  const results: ScenarioResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length && !options.signal.aborted) {
      const index = next++;
      const result = judge(await run(scenarios[index]), expected);
      results[index] = result;
      console.log(formatResult(result, options.verbose, expectedFile));
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, scenarios.length) }, worker),
  );
  return summarize(results.filter(Boolean));
}

if (import.meta.main) {
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  Deno.addSignalListener("SIGINT", interrupt);
  Deno.addSignalListener("SIGTERM", interrupt);
  try {
    Deno.exitCode = await main(controller.signal);
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
    Deno.removeSignalListener("SIGTERM", interrupt);
  }
}
