/**
 * `toolscript tools [<server>]`: connects to the servers directly (no gateway process) and
 * lists their tools as `<server>__<tool>` with the first line of each description.
 */
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import { type CliIo, createCliGateway, findEnabledServer, openCliRuntime } from "./cli_runtime.ts";
import { terminalJson } from "./_terminal.ts";
import { stripControlChars } from "../log.ts";

/** Parsed `tools` arguments. */
export interface ToolsArgs {
  config?: string;
  help: boolean;
  json: boolean;
  server?: string;
}

/** Help text of `tools`. */
export const TOOLS_HELP = `Usage: toolscript tools [<server>] [--json]

Lists the tools of every enabled server (or of one), named <server>__<tool>.

Options:
  --json   Print the full tool definitions as JSON
${GLOBAL_HELP}`;

/** Parses `tools` arguments (pure). */
export function parseToolsArgs(argv: string[]): ToolsArgs {
  const { values, positionals, global } = parseCommandArgs("tools", argv, {
    json: { type: "boolean" },
  }, { min: 0, max: 1 });
  return { ...global, json: values.json === true, server: positionals[0] };
}

/** Lists tools; a named server that needs a login exits 3, one that cannot be reached 1. */
export async function runTools(args: ToolsArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(TOOLS_HELP + "\n");
    return 0;
  }
  const runtime = await openCliRuntime(io, args.config);
  const only = args.server ? [findEnabledServer(runtime, args.server)] : undefined;
  await using gateway = createCliGateway(runtime, only);
  await gateway.start();
  const tools = gateway.listTools();
  if (args.json) {
    io.stdout(terminalJson(tools) + "\n");
  } else {
    for (const tool of tools) {
      // Names and descriptions come from the upstream: no escape sequence reaches the terminal.
      const summary = stripControlChars((tool.description ?? "").split("\n")[0]);
      io.stdout(`${stripControlChars(tool.name).replaceAll("\t", " ")}\t${summary}\n`);
    }
  }
  let exitCode = 0;
  for (const server of gateway.health()) {
    if (server.state === "ok") continue;
    exitCode = server.state === "needs-auth" && exitCode !== 1 ? 3 : 1;
    const error = stripControlChars(server.error ?? "");
    runtime.logger.error(`server "${server.name}" is ${server.state}: ${error}`);
  }
  // Listing everything succeeds with what could be listed; one named server must be reachable.
  return args.server ? exitCode : 0;
}
