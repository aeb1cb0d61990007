/**
 * Turns scenario runs into verdicts and the lines `deno task conformance` prints, honouring
 * `expected_failures.json` (`{"<scenario>": "<why it fails>"}`).
 */
import type { Check, ScenarioRun } from "./_suite.ts";

/**
 * `PASS`/`FAIL` as the suite judged the scenario; `XFAIL` a listed expected failure that
 * failed; `XPASS` a listed one that passed (its entry should go).
 */
export type Verdict = "PASS" | "FAIL" | "XFAIL" | "XPASS";

/** One judged scenario. */
export interface ScenarioResult {
  run: ScenarioRun;
  verdict: Verdict;
  /** Checks that passed, and all checks that count (SUCCESS + FAILURE + WARNING). */
  passed: number;
  total: number;
  /** Why it is expected to fail, when listed. */
  expectedReason?: string;
}

/** Totals for the summary line. */
export interface Summary {
  passed: number;
  failed: number;
  expectedFailures: number;
  unexpectedPasses: number;
}

/** Scenario name → reason. */
export type ExpectedFailures = Record<string, string>;

/** Parses and checks `expected_failures.json`: every entry needs a non-empty reason. */
export function parseExpectedFailures(text: string): ExpectedFailures {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError("expected_failures.json must be an object of scenario name to reason");
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [scenario, reason] of entries) {
    if (typeof reason !== "string" || reason.trim() === "") {
      throw new TypeError(`expected_failures.json: "${scenario}" needs a written reason`);
    }
  }
  return Object.fromEntries(entries) as ExpectedFailures;
}

/** Judges one run. The suite's exit code decides pass or fail, as the suite's own CI does. */
export function judge(run: ScenarioRun, expected: ExpectedFailures): ScenarioResult {
  const counted = (run.checks ?? []).filter((c) =>
    c.status === "SUCCESS" || c.status === "FAILURE" || c.status === "WARNING"
  );
  const passed = counted.filter((c) => c.status === "SUCCESS").length;
  const ok = run.exitCode === 0 && !run.killed && run.checks !== undefined;
  const expectedReason = Object.hasOwn(expected, run.scenario) ? expected[run.scenario] : undefined;
  const verdict: Verdict = expectedReason === undefined
    ? (ok ? "PASS" : "FAIL")
    : (ok ? "XPASS" : "XFAIL");
  return { run, verdict, passed, total: counted.length, expectedReason };
}

/**
 * `PASS auth/iss-supported (12/12)` plus, for failures, why. `expectedFile` is the list an
 * XPASS should be removed from.
 */
export function formatResult(
  result: ScenarioResult,
  verbose = false,
  expectedFile = "tests/conformance/expected_failures.json",
): string {
  const { run, verdict } = result;
  const lines = [`${verdict} ${run.scenario} (${result.passed}/${result.total})`];
  if (verdict === "XPASS") lines.push(`    passes now: remove it from ${expectedFile}`);
  if (verdict === "XFAIL" && verbose) lines.push(`    expected: ${result.expectedReason}`);
  if (verdict === "FAIL" || (verdict === "XFAIL" && verbose)) {
    lines.push(...failureDetails(run).map((line) => `    ${line}`));
  }
  if (verbose && run.clientStderr.trim()) {
    lines.push("    client stderr:", ...tail(run.clientStderr, 30).map((l) => `      ${l}`));
  }
  return lines.join("\n");
}

/** The failed and warning checks, and what else went wrong (timeout, client exit, crash). */
export function failureDetails(run: ScenarioRun): string[] {
  if (run.notRun !== undefined) return [`not run: ${run.notRun}`];
  const lines: string[] = [];
  if (run.killed) lines.push("suite killed after the outer deadline");
  if (!run.checks) {
    lines.push(`no checks written (suite exit ${run.exitCode})`);
    lines.push(...tail(run.suiteOutput, 10));
    return lines;
  }
  for (const check of run.checks) {
    if (check.status !== "FAILURE" && check.status !== "WARNING") continue;
    lines.push(`${check.status} ${check.id}: ${describe(check)}`);
  }
  if (/CLIENT TIMED OUT/.test(run.suiteOutput)) lines.push("client timed out");
  const exited = /CLIENT EXITED WITH ERROR \(code (-?\d+)\)/.exec(run.suiteOutput);
  if (exited) {
    lines.push(`client exited with code ${exited[1]}`);
    const last = tail(run.clientStderr, 1)[0];
    if (last) lines.push(`client: ${last.slice(0, 300)}`);
  }
  if (lines.length === 0 && run.exitCode !== 0) lines.push(`suite exit ${run.exitCode}`);
  return lines;
}

function describe(check: Check): string {
  const text = check.errorMessage ?? check.description;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function tail(text: string, count: number): string[] {
  return text.split("\n").map((l) => l.trimEnd()).filter(Boolean).slice(-count);
}

/** Counts verdicts: XPASS counts as failed (the list is stale), XFAIL as neither. */
export function summarize(results: ScenarioResult[]): Summary {
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return {
    passed: count("PASS"),
    failed: count("FAIL") + count("XPASS"),
    expectedFailures: count("XFAIL"),
    unexpectedPasses: count("XPASS"),
  };
}

/** `40 passed, 2 failed (3 expected failures)`. */
export function formatSummary(summary: Summary): string {
  const extra = [];
  if (summary.expectedFailures) extra.push(`${summary.expectedFailures} expected failures`);
  if (summary.unexpectedPasses) {
    extra.push(`${summary.unexpectedPasses} listed as expected failures but passing`);
  }
  return `${summary.passed} passed, ${summary.failed} failed` +
    (extra.length ? ` (${extra.join(", ")})` : "");
}
