/**
 * Drives the official MCP conformance suite (`npm:@modelcontextprotocol/conformance`, pinned
 * below) as a child process: lists its client and server scenarios and runs one scenario, a
 * client scenario against a client command or a server scenario against a URL, reading back the
 * `checks.json` it writes.
 */
import { join } from "node:path";

/** The pinned suite version; bump it here (and re-read the README's notes on scenarios). */
export const SUITE_VERSION = "0.2.0-alpha.12";

/** The suite's npm specifier. */
export const SUITE_SPECIFIER = `npm:@modelcontextprotocol/conformance@${SUITE_VERSION}`;

/** One check of a scenario, as the suite writes it to `checks.json`. */
export interface Check {
  id: string;
  name: string;
  description: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  errorMessage?: string;
}

/** What one scenario run produced. */
export interface ScenarioRun {
  scenario: string;
  /**
   * The suite's exit code: 0 when every check passed and the client behaved (for a server
   * scenario: when no check is a FAILURE).
   */
  exitCode: number;
  /** The scenario's checks; undefined when the suite wrote none (it crashed or was killed). */
  checks?: Check[];
  /** The client's own output, as the suite captured it (empty for server scenarios). */
  clientStdout: string;
  clientStderr: string;
  /** The suite's stdout and stderr (its verdict, timeouts, client exit code). */
  suiteOutput: string;
  /** Why the suite was not run at all (its server did not start); set only then. */
  notRun?: string;
  /** True when our outer deadline killed the suite. */
  killed: boolean;
  durationMs: number;
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  scenario: string;
  /** The client command; the suite appends the server URL as the last argument. */
  command: string;
  /** The suite's per-client timeout. */
  clientTimeoutMs: number;
  /** Passed as `--spec-version` (with `--force`) when set. */
  specVersion?: string;
  /** Working directory of the suite (and so of the client). */
  cwd: string;
  /** Extra environment for the suite and the client. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** The `deno` arguments that start the suite's CLI without touching the repo's lock file. */
function suiteArgs(args: string[]): string[] {
  return ["run", "-A", "--no-config", "--no-lock", SUITE_SPECIFIER, ...args];
}

/** Names of every client scenario the pinned suite offers, in its order. */
export async function listClientScenarios(cwd: string): Promise<string[]> {
  return parseScenarioList(await listScenarios(cwd, ["--client"]));
}

/** The output of `conformance list <flags>`. */
async function listScenarios(cwd: string, flags: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: suiteArgs(["list", ...flags]),
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `The conformance suite could not list its scenarios (exit ${output.code}): ` +
        new TextDecoder().decode(output.stderr).slice(-2000),
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Reads `  - <name> [versions]` lines of `conformance list --client` (or `--server`). */
export function parseScenarioList(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s+-\s+(\S+)/.exec(line);
    if (match) names.push(match[1]);
  }
  return names;
}

/**
 * Runs one scenario in its own results directory and returns its checks. The suite gets
 * `clientTimeoutMs` for the client; this function kills the suite itself 30 s after that.
 */
export function runScenario(options: RunScenarioOptions): Promise<ScenarioRun> {
  const args = [
    "client",
    "--command",
    options.command,
    "--scenario",
    options.scenario,
    "--timeout",
    String(options.clientTimeoutMs),
  ];
  if (options.specVersion) args.push("--spec-version", options.specVersion, "--force");
  return runSuite(args, options.clientTimeoutMs, options);
}

/**
 * The wire version the server scenarios run at: the latest dated revision, the one the SDK's
 * servers (the fixture's and the gateway's) speak. The 2026-07-28 scenarios need the stateless
 * wire on the server side, which neither offers yet.
 */
export const SERVER_SPEC_VERSION = "2025-11-25";

/** Names of every server scenario the pinned suite runs at {@link SERVER_SPEC_VERSION}. */
export async function listServerScenarios(cwd: string): Promise<string[]> {
  return parseScenarioList(
    await listScenarios(cwd, ["--server", "--spec-version", SERVER_SPEC_VERSION]),
  );
}

/** Options of {@link runServerScenario}. */
export interface RunServerScenarioOptions {
  scenario: string;
  /** The MCP endpoint the suite connects to. */
  url: string;
  /** The suite's own per-scenario timeout. */
  scenarioTimeoutMs: number;
  /** Working directory of the suite. */
  cwd: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Runs one server scenario (at {@link SERVER_SPEC_VERSION}) against `url` in its own results
 * directory. The suite fails a server scenario on any FAILURE check (a WARNING does not); this
 * function kills the suite 30 s after `scenarioTimeoutMs`.
 */
export function runServerScenario(options: RunServerScenarioOptions): Promise<ScenarioRun> {
  const args = [
    "server",
    "--url",
    options.url,
    "--scenario",
    options.scenario,
    "--spec-version",
    SERVER_SPEC_VERSION,
    "--timeout",
    String(options.scenarioTimeoutMs),
  ];
  return runSuite(args, options.scenarioTimeoutMs, options);
}

/** Options of {@link runServerSuite}. */
export interface RunServerSuiteOptions {
  /** The scenarios expected in the run: every one {@link listServerScenarios} names. */
  scenarios: string[];
  url: string;
  scenarioTimeoutMs: number;
  cwd: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Runs every server scenario at {@link SERVER_SPEC_VERSION} in one suite process
 * (`--suite all --spec-version …`, one after another, as the suite's own CI does), which costs
 * one suite start instead of one per scenario. Each scenario's verdict is the suite's own rule:
 * `exitCode` 1 when one of its checks is a FAILURE. A scenario the suite did not get to has no
 * checks. The suite is killed after every scenario's timeout plus 30 s.
 */
export async function runServerSuite(options: RunServerSuiteOptions): Promise<ScenarioRun[]> {
  const started = performance.now();
  const outputDir = await Deno.makeTempDir({ prefix: "toolscript-conformance-" });
  try {
    const args = [
      "server",
      "--url",
      options.url,
      "--suite",
      "all",
      "--spec-version",
      SERVER_SPEC_VERSION,
      "--timeout",
      String(options.scenarioTimeoutMs),
      "--output-dir",
      outputDir,
    ];
    const limitMs = options.scenarioTimeoutMs * options.scenarios.length + 30_000;
    const { code, output, killed } = await spawnSuite(args, limitMs, options);
    const dirs = (await Array.fromAsync(Deno.readDir(outputDir)))
      .filter((entry) => entry.isDirectory).map((entry) => entry.name);
    const durationMs = performance.now() - started;
    const runs: ScenarioRun[] = [];
    for (const scenario of options.scenarios) {
      const dir = serverResultDir(dirs, scenario);
      const text = dir
        ? await Deno.readTextFile(join(outputDir, dir, "checks.json")).catch(() => "")
        : "";
      const checks = text ? JSON.parse(text) as Check[] : undefined;
      const failed = !checks || checks.some((check) => check.status === "FAILURE");
      runs.push({
        scenario,
        exitCode: checks ? (failed ? 1 : 0) : code || 1,
        checks,
        clientStdout: "",
        clientStderr: "",
        suiteOutput: sectionOf(output, scenario),
        killed: killed && !checks,
        durationMs,
      });
    }
    return runs;
  } finally {
    await Deno.remove(outputDir, { recursive: true }).catch(() => {});
  }
}

/**
 * The results directory of a server scenario among `names`: the suite names it
 * `server-<scenario>-<ISO timestamp>`, so `resources-subscribe` never takes the directory of
 * `resources-subscribe-x`.
 */
export function serverResultDir(names: string[], scenario: string): string | undefined {
  const prefix = `server-${scenario}-`;
  return names.find((name) =>
    name.startsWith(prefix) && /^\d{4}-\d\d-\d\dT/.test(name.slice(prefix.length))
  );
}

/** The part of a whole-suite run's output that belongs to one scenario. */
export function sectionOf(output: string, scenario: string): string {
  const start = output.indexOf(`=== Running scenario: ${scenario} ===`);
  if (start < 0) return output.slice(-2000);
  const end = output.indexOf("=== Running scenario:", start + 1);
  return output.slice(start, end < 0 ? undefined : end);
}

/** Spawns the suite with `args`; SIGKILL after `limitMs` or on `signal`. */
async function spawnSuite(
  args: string[],
  limitMs: number,
  options: { cwd: string; env?: Record<string, string>; signal?: AbortSignal },
): Promise<{ code: number; output: string; killed: boolean }> {
  const deadline = AbortSignal.timeout(limitMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const child = new Deno.Command(Deno.execPath(), {
    args: suiteArgs(args),
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const kill = () => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  const output = await child.output();
  signal.removeEventListener("abort", kill);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    output: stripAnsi(decoder.decode(output.stdout) + decoder.decode(output.stderr)),
    killed,
  };
}

/** Runs the suite with `args` plus `--output-dir` and reads back what it wrote. */
async function runSuite(
  args: string[],
  timeoutMs: number,
  options: { scenario: string; cwd: string; env?: Record<string, string>; signal?: AbortSignal },
): Promise<ScenarioRun> {
  const started = performance.now();
  const outputDir = await Deno.makeTempDir({ prefix: "toolscript-conformance-" });
  try {
    const { code, output: suiteOutput, killed } = await spawnSuite(
      [...args, "--output-dir", outputDir],
      timeoutMs + 30_000,
      options,
    );
    const resultDir = await findResultDir(outputDir);
    const read = async (name: string) =>
      resultDir ? await Deno.readTextFile(join(resultDir, name)).catch(() => "") : "";
    const checksText = await read("checks.json");
    return {
      scenario: options.scenario,
      exitCode: code,
      checks: checksText ? JSON.parse(checksText) as Check[] : undefined,
      clientStdout: await read("stdout.txt"),
      clientStderr: await read("stderr.txt"),
      suiteOutput,
      killed,
      durationMs: performance.now() - started,
    };
  } finally {
    await Deno.remove(outputDir, { recursive: true }).catch(() => {});
  }
}

/** The directory holding `checks.json` (scenario names with `/` nest one level deeper). */
async function findResultDir(dir: string, depth = 0): Promise<string | undefined> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name === "checks.json") return dir;
  }
  if (depth >= 3) return undefined;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isDirectory) continue;
    const found = await findResultDir(join(dir, entry.name), depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Removes terminal colour codes. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
