/**
 * `toolscript exec <code>` / `exec --file <path>`: runs a TypeScript program that calls tools
 * through `import { tools } from "toolscript"`, in a locked-down Deno process, against the
 * running gateway or one started in-process for the run.
 */
import { resolve } from "node:path";
import { GLOBAL_HELP, parseCommandArgs, parseSeconds } from "./cli_args.ts";
import { type CliIo, createCliGateway, openCliRuntime } from "./cli_runtime.ts";
import {
  connectRunningGateway,
  quietIo,
  type RunningGateway,
  runningGateway,
} from "./_code_mode.ts";
import { ToolscriptError, UsageError } from "../errors.ts";
import { catalogOfGateway } from "../codemode/gateway_catalog.ts";
import { generateToolsModule } from "../codemode/tools_module.ts";
import {
  runSandboxed,
  type SandboxOutcome,
  sandboxRunRoot,
  timedOutMessage,
} from "../codemode/exec_sandbox.ts";
import { findDeno } from "../codemode/find_deno.ts";
import { UNUSED_GATEWAY_URL } from "../codemode/code_mode_tools.ts";

/** Parsed `exec` arguments. */
export interface ExecArgs {
  config?: string;
  help: boolean;
  /** Program text given on the command line. */
  code?: string;
  /** Program file (`-` = stdin). */
  file?: string;
  timeoutMs: number;
}

/** Default `--timeout`, in seconds. */
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 300;

/** Help text of `exec`. */
export const EXEC_HELP = `Usage: toolscript exec <code> [--timeout SECONDS]
       toolscript exec --file <path> [--timeout SECONDS]

Type-checks and runs a TypeScript program that calls tools:

  import { tools } from "toolscript";
  const { sum } = await tools.calc.add({ a: 1, b: 2 });
  console.log(sum);

The program may import only "toolscript" (see 'toolscript types'). It has no network, file,
environment, subprocess, FFI or system access: its tool calls go through exec, which makes them.
Its stdout and stderr pass through. Uses the gateway at TOOLSCRIPT_GATEWAY_URL when set, else starts one on the
config for the run. Exit status: 0 when the program finished, 1 on a type error, an uncaught
error or a timeout.

Options:
  --file <path>        Read the program from a file ('-' = stdin)
  --timeout <seconds>  Kill the program when it has run this long, type-checking not
                       included (default ${DEFAULT_EXEC_TIMEOUT_SECONDS})
${GLOBAL_HELP}`;

/** Parses `exec` arguments (pure). */
export function parseExecArgs(argv: string[]): ExecArgs {
  const { values, positionals, global } = parseCommandArgs("exec", argv, {
    file: { type: "string" },
    timeout: { type: "string" },
  }, { min: 0, max: 1 });
  const file = values.file as string | undefined;
  const code = positionals[0];
  if (!global.help && (file === undefined) === (code === undefined)) {
    throw new UsageError(
      file === undefined
        ? `Missing program for "exec": give <code> or --file <path>`
        : `Give either <code> or --file <path> to "exec", not both`,
      { fix: "toolscript exec --help" },
    );
  }
  return {
    ...global,
    code,
    file,
    timeoutMs: parseSeconds(values.timeout, "--timeout") ?? DEFAULT_EXEC_TIMEOUT_SECONDS * 1000,
  };
}

/** Runs the program; returns 0 when it finished, 1 otherwise. */
export async function runExec(args: ExecArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(EXEC_HELP + "\n");
    return 0;
  }
  const code = args.code ?? await readProgram(args.file!, io);
  const quiet = quietIo(io);
  const running = runningGateway(quiet, args.config);
  const outcome = running
    ? await runAgainst(running, code, args, quiet)
    : await runWithOwnGateway(code, args, quiet);
  switch (outcome.kind) {
    case "exited":
      return outcome.code === 0 ? 0 : 1;
    case "rejected":
      io.stderr(
        `error: The program may import only "toolscript"; it also imports ` +
          `${outcome.imports.map((s) => `"${s}"`).join(", ")}\n`,
      );
      return 1;
    case "timed_out":
      throw new ToolscriptError(timedOutMessage(outcome.phase, args.timeoutMs), {
        code: "timeout",
      });
  }
}

async function runAgainst(
  running: RunningGateway,
  code: string,
  args: ExecArgs,
  io: CliIo,
): Promise<SandboxOutcome> {
  await using gateway = await connectRunningGateway(running, io, {
    requestTimeoutMs: args.timeoutMs,
  });
  return await runSandboxed(code, {
    ...sandboxIo(io, args),
    denoPath: await findDeno(io.env),
    toolsModule: gateway.toolsModule,
    callTool: gateway.callTool,
    checker: gateway.checker,
  });
}

/**
 * Builds the config's gateway in this process for the run: the tools module is generated here
 * and the program's calls go straight to `gateway.callTool`; no port is opened.
 */
async function runWithOwnGateway(code: string, args: ExecArgs, io: CliIo): Promise<SandboxOutcome> {
  const denoPath = await findDeno(io.env);
  const runtime = await openCliRuntime(io, args.config);
  await using gateway = createCliGateway(runtime);
  await gateway.start(io.signal);
  const toolsModule = generateToolsModule(catalogOfGateway(gateway), {
    // The sandbox relays every call to this process; the module's own HTTP client stays unused.
    gatewayUrl: UNUSED_GATEWAY_URL,
    onWarning: (message) => runtime.logger.debug("tools module", { warning: message }),
  });
  return await runSandboxed(code, {
    ...sandboxIo(io, args),
    denoPath,
    toolsModule,
    callTool: (name, toolArgs, signal) => gateway.callTool(name, toolArgs, signal),
  });
}

function sandboxIo(io: CliIo, args: ExecArgs) {
  return {
    timeoutMs: args.timeoutMs,
    runRoot: sandboxRunRoot(io.env),
    env: io.env,
    stdout: io.stdout,
    stderr: io.stderr,
    signal: io.signal,
  };
}

async function readProgram(file: string, io: CliIo): Promise<string> {
  if (file === "-") return await new Response(io.stdin).text();
  try {
    return await Deno.readTextFile(resolve(io.cwd, file));
  } catch (error) {
    throw new UsageError(`Cannot read program file "${file}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}
