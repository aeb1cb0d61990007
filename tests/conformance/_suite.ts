/**
 * Drives the official MCP conformance suite (`npm:@modelcontextprotocol/conformance`, pinned
 * below) as a child process: lists its client scenarios and runs one scenario against a client
 * command, reading back the `checks.json` it writes.
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
  /** The suite's exit code: 0 when every check passed and the client behaved. */
  exitCode: number;
  /** The scenario's checks; undefined when the suite wrote none (it crashed or was killed). */
  checks?: Check[];
  /** The client's own output, as the suite captured it. */
  clientStdout: string;
  clientStderr: string;
  /** The suite's stdout and stderr (its verdict, timeouts, client exit code). */
  suiteOutput: string;
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
  const output = await new Deno.Command(Deno.execPath(), {
    args: suiteArgs(["list", "--client"]),
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `The conformance suite could not list its scenarios (exit ${output.code}): ` +
        new TextDecoder().decode(output.stderr).slice(-2000),
    );
  }
  return parseScenarioList(text);
}

/** Reads `  - <name> [versions]` lines of `conformance list --client`. */
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
export async function runScenario(options: RunScenarioOptions): Promise<ScenarioRun> {
  const started = performance.now();
  const outputDir = await Deno.makeTempDir({ prefix: "toolscript-conformance-" });
  try {
    const args = [
      "client",
      "--command",
      options.command,
      "--scenario",
      options.scenario,
      "--timeout",
      String(options.clientTimeoutMs),
      "--output-dir",
      outputDir,
    ];
    if (options.specVersion) args.push("--spec-version", options.specVersion, "--force");
    const deadline = AbortSignal.timeout(options.clientTimeoutMs + 30_000);
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
    const suiteOutput = stripAnsi(decoder.decode(output.stdout) + decoder.decode(output.stderr));
    const resultDir = await findResultDir(outputDir);
    const read = async (name: string) =>
      resultDir ? await Deno.readTextFile(join(resultDir, name)).catch(() => "") : "";
    const checksText = await read("checks.json");
    return {
      scenario: options.scenario,
      exitCode: output.code,
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
