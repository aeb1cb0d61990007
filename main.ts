/**
 * The toolscript CLI entry: reads argv, builds the real platform dependencies, runs one
 * command, and turns its outcome into an exit status (0 ok, 1 failure, 2 usage or config
 * error, 3 not authenticated). The only file that exits the process.
 */
import { exitCodeFor, ToolscriptError } from "./src/errors.ts";
import { type FixContext, renderErrorLines } from "./src/fix_command.ts";
import { type CliIo, createCliLogger } from "./src/cli/cli_runtime.ts";
import { runCommand } from "./src/cli/run_command.ts";
import { openBrowser } from "./src/cli/open_browser.ts";
import { writeAllSync } from "./src/write_all.ts";

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const encoder = new TextEncoder();
  const logger = createCliLogger((name) => Deno.env.get(name));
  const fixes: FixContext = {};
  const io: CliIo = {
    env: (name) => Deno.env.get(name),
    cwd: Deno.cwd(),
    home: Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? Deno.cwd(),
    stdout: (text) => writeAllSync(Deno.stdout, encoder.encode(text)),
    stderr: (text) => writeAllSync(Deno.stderr, encoder.encode(logger.redactor.redactText(text))),
    stderrVerbatim: (text) => writeAllSync(Deno.stderr, encoder.encode(text)),
    stdin: Deno.stdin.readable,
    signal: controller.signal,
    fetch: globalThis.fetch,
    now: Date.now,
    openBrowser: (url) => openBrowser(url, { env: (name) => Deno.env.get(name) }),
    logger,
    fixes,
  };
  try {
    return await runCommand(argv, io);
  } catch (error) {
    if (controller.signal.aborted) return 130;
    io.stderr(renderErrorLines(error, fixes));
    if (!(error instanceof ToolscriptError)) logger.debug("stack", { stack: String(error) });
    return exitCodeFor(error);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
