/**
 * Private to tests/security: the CLI run in-process with a {@link CliIo} a spec owns, so a
 * command can use a routing `fetch` and a recording browser opener (STYLE section 7: passed
 * in, never stubbed globally). Output is collected; nothing reaches the real terminal.
 */
import { type CliIo, createCliLogger } from "../../src/cli/cli_runtime.ts";
import { runCommand } from "../../src/cli/run_command.ts";
import { exitCodeFor } from "../../src/errors.ts";
import { type FixContext, renderErrorLines } from "../../src/fix_command.ts";

/** Options of {@link runCliInProcess}. */
export interface InProcessOptions {
  /** `TOOLSCRIPT_HOME`. */
  home: string;
  fetch: typeof fetch;
  /** Called instead of a browser; default: records and answers false (no browser). */
  openBrowser?: (url: string) => Promise<boolean>;
  /** Extra environment (`TOOLSCRIPT_LOG`, …). */
  env?: Record<string, string>;
}

/** What an in-process run printed and returned. */
export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The error the command threw, if any (as `main.ts` would print it). */
  error?: unknown;
  /** URLs the browser opener was asked to open. */
  opened: string[];
}

/** Runs one command as `main.ts` would, with the given seams. */
export async function runCliInProcess(
  argv: string[],
  options: InProcessOptions,
): Promise<InProcessResult> {
  let stdout = "";
  let stderr = "";
  const opened: string[] = [];
  const vars: Record<string, string> = { TOOLSCRIPT_HOME: options.home, ...options.env };
  const env = (name: string) => vars[name];
  const logger = createCliLogger(env, (line) => stderr += line.endsWith("\n") ? line : line + "\n");
  const fixes: FixContext = {};
  const io: CliIo = {
    env,
    cwd: options.home,
    home: options.home,
    stdout: (text) => stdout += text,
    stderr: (text) => stderr += logger.redactor.redactText(text),
    stderrVerbatim: (text) => stderr += text,
    stdin: new ReadableStream({ start: (controller) => controller.close() }),
    signal: new AbortController().signal,
    fetch: options.fetch,
    now: Date.now,
    openBrowser: (url) => {
      opened.push(url);
      return options.openBrowser?.(url) ?? Promise.resolve(false);
    },
    logger,
    fixes,
  };
  try {
    const code = await runCommand(argv, io);
    return { code, stdout, stderr, opened };
  } catch (error) {
    stderr += renderErrorLines(error, fixes);
    return { code: exitCodeFor(error), stdout, stderr, error, opened };
  }
}
