import assert from "node:assert/strict";
import { formatResult, formatSummary, judge, parseExpectedFailures, summarize } from "./_report.ts";
import {
  type Check,
  parseScenarioList,
  type ScenarioRun,
  sectionOf,
  serverResultDir,
} from "./_suite.ts";

function check(status: Check["status"], id = "c"): Check {
  return { id, name: id, description: `${id} described`, status };
}

function run(scenario: string, exitCode: number, checks?: Check[]): ScenarioRun {
  return {
    scenario,
    exitCode,
    checks,
    clientStdout: "",
    clientStderr: "",
    suiteOutput: "",
    killed: false,
    durationMs: 1,
  };
}

Deno.test("parseScenarioList() reads the scenario names of `conformance list --client`", () => {
  const text = "Client scenarios (test against a client):\n  - initialize [2025-06-18]\n" +
    "  - auth/iss-supported [2026-07-28]\n\nServer scenarios:\n";
  assert.deepEqual(parseScenarioList(text), ["initialize", "auth/iss-supported"]);
});

Deno.test("judge() follows the suite's exit code and counts only scored checks", () => {
  const passed = judge(run("a", 0, [check("SUCCESS"), check("INFO"), check("SKIPPED")]), {});
  assert.equal(passed.verdict, "PASS");
  assert.deepEqual([passed.passed, passed.total], [1, 1]);
  const failed = judge(run("a", 1, [check("SUCCESS"), check("WARNING", "w")]), {});
  assert.equal(failed.verdict, "FAIL");
  assert.deepEqual([failed.passed, failed.total], [1, 2]);
});

Deno.test("judge() fails a scenario whose suite wrote no checks, even with exit 0", () => {
  assert.equal(judge(run("a", 0), {}).verdict, "FAIL");
});

Deno.test("judge() marks listed scenarios XFAIL when failing and XPASS when passing", () => {
  const expected = { a: "not built yet" };
  assert.equal(judge(run("a", 1, [check("FAILURE")]), expected).verdict, "XFAIL");
  assert.equal(judge(run("a", 0, [check("SUCCESS")]), expected).verdict, "XPASS");
});

Deno.test("summarize() counts an unexpected pass as a failure and an expected failure as neither", () => {
  const expected = { x: "reason", y: "reason" };
  const results = [
    judge(run("p", 0, [check("SUCCESS")]), expected),
    judge(run("f", 1, [check("FAILURE")]), expected),
    judge(run("x", 1, [check("FAILURE")]), expected),
    judge(run("y", 0, [check("SUCCESS")]), expected),
  ];
  const summary = summarize(results);
  assert.deepEqual(summary, { passed: 1, failed: 2, expectedFailures: 1, unexpectedPasses: 1 });
  assert.equal(
    formatSummary(summary),
    "1 passed, 2 failed (1 expected failures, 1 listed as expected failures but passing)",
  );
});

Deno.test("formatResult() names each failed check and the client's exit", () => {
  const failing = run("auth/x", 1, [check("SUCCESS"), check("FAILURE", "iss-check")]);
  failing.suiteOutput = "⚠️  CLIENT EXITED WITH ERROR (code 1) - Test may be incomplete";
  failing.clientStderr = "first\nlast line\n";
  assert.equal(
    formatResult(judge(failing, {})),
    "FAIL auth/x (1/2)\n    FAILURE iss-check: iss-check described\n" +
      "    client exited with code 1\n    client: last line",
  );
});

Deno.test("parseExpectedFailures() requires a written reason for every entry", () => {
  assert.deepEqual(parseExpectedFailures('{"a": "why"}'), { a: "why" });
  assert.throws(() => parseExpectedFailures('{"a": ""}'), TypeError);
  assert.throws(() => parseExpectedFailures('["a"]'), TypeError);
});

Deno.test("serverResultDir() picks the scenario's own directory, not one whose name extends it", () => {
  const names = [
    "server-resources-subscribe-x-2026-12-02T04-58-24-799Z",
    "server-resources-subscribe-2026-12-02T04-58-25-001Z",
  ];
  assert.equal(
    serverResultDir(names, "resources-subscribe"),
    "server-resources-subscribe-2026-12-02T04-58-25-001Z",
  );
  assert.equal(serverResultDir(names, "ping"), undefined);
});

Deno.test("sectionOf() keeps the part of a whole-suite run that belongs to one scenario", () => {
  const output = "Running active suite\n=== Running scenario: ping ===\nping ok\n" +
    "=== Running scenario: tools-list ===\nlist ok\n\n=== SUMMARY ===\n";
  assert.equal(sectionOf(output, "ping"), "=== Running scenario: ping ===\nping ok\n");
  assert.match(sectionOf(output, "tools-list"), /^=== Running scenario: tools-list ===\nlist ok/);
});

Deno.test("formatResult() says why a scenario was not run and which list an XPASS leaves", () => {
  const notRun = { ...run("ping", -1), notRun: "the server under test did not start" };
  assert.equal(
    formatResult(judge(notRun, {})),
    "FAIL ping (0/0)\n    not run: the server under test did not start",
  );
  const passing = judge(run("ping", 0, [check("SUCCESS")]), { ping: "no reason now" });
  assert.equal(
    formatResult(passing, false, "tests/conformance/expected_failures_gateway.json"),
    "XPASS ping (1/1)\n    passes now: remove it from tests/conformance/expected_failures_gateway.json",
  );
});

Deno.test("every expected-failures file of the repo parses and gives each entry a reason", async () => {
  for (
    const file of ["expected_failures", "expected_failures_server", "expected_failures_gateway"]
  ) {
    const text = await Deno.readTextFile(new URL(`./${file}.json`, import.meta.url));
    assert.doesNotThrow(() => parseExpectedFailures(text), file);
  }
});
