/**
 * `toolscript call <server> <tool> [<json-arguments>]`: calls one tool directly (no gateway
 * process) and prints the result JSON on stdout.
 */
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import { type CliIo, createCliGateway, findEnabledServer, openCliRuntime } from "./cli_runtime.ts";
import { exitCodeFor, ToolscriptError, UsageError } from "../errors.ts";
import { exposedName } from "../gateway/exposed_names.ts";

/** Parsed `call` arguments. */
export interface CallArgs {
  config?: string;
  help: boolean;
  server: string;
  tool: string;
  arguments?: Record<string, unknown>;
  /** A bearer token for this call only (highest precedence). */
  token?: string;
}

/** Help text of `call`. */
export const CALL_HELP = `Usage: toolscript call <server> <tool> [<json-arguments>] [--token T]

Calls one tool of one server and prints the result as JSON.
Exit status: 0 ok, 1 the tool or server failed, 3 the server needs 'toolscript auth'.

Options:
  --token <t>   Bearer token for this call (overrides stored and configured credentials)
${GLOBAL_HELP}`;

/** Parses `call` arguments (pure); the JSON arguments must be an object. */
export function parseCallArgs(argv: string[]): CallArgs {
  const { values, positionals, global } = parseCommandArgs("call", argv, {
    token: { type: "string" },
  }, { min: 2, max: 3 });
  let parsedArguments: Record<string, unknown> | undefined;
  if (positionals[2] !== undefined) {
    try {
      parsedArguments = JSON.parse(positionals[2]);
    } catch (error) {
      throw new UsageError(`Tool arguments are not valid JSON: ${(error as Error).message}`);
    }
    if (!parsedArguments || typeof parsedArguments !== "object" || Array.isArray(parsedArguments)) {
      throw new UsageError('Tool arguments must be a JSON object, e.g. \'{"text":"hi"}\'');
    }
  }
  return {
    ...global,
    server: positionals[0],
    tool: positionals[1],
    arguments: parsedArguments,
    token: values.token as string | undefined,
  };
}

/** Calls the tool; the exit status says whether the result is an error. */
export async function runCall(args: CallArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(CALL_HELP + "\n");
    return 0;
  }
  const runtime = await openCliRuntime(io, args.config);
  runtime.logger.redactor.addSecret(args.token);
  let server = findEnabledServer(runtime, args.server);
  if (args.token && server.type !== "stdio") server = { ...server, tokenOverride: args.token };
  await using gateway = createCliGateway(runtime, [server]);
  await gateway.start();
  const upstream = gateway.upstreams.get(server.name)!;
  // The tool's exposed name (its prefix may differ from the server name); a server that is down
  // has no list yet, so its prefix is tried.
  const name = gateway.exposedNames.toolName(server.name, args.tool) ??
    exposedName(server.prefix ?? server.name, args.tool);
  const result = await gateway.callTool(name, args.arguments, io.signal);
  io.stdout(JSON.stringify(result, null, 2) + "\n");
  if (!result.isError) return 0;
  // A call that failed for a reason of ours (config, login) exits as that error would.
  const failure = upstream.state === "ok" ? undefined : upstream.lastFailure;
  return failure instanceof ToolscriptError ? exitCodeFor(failure) : 1;
}
