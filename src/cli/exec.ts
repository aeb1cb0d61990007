/**
 * `toolscript exec <code>` / `exec --file <path>`: runs a TypeScript program that calls tools
 * through `import { tools } from "toolscript"`, in a locked-down Deno process, against the
 * running gateway or one started in-process for the run.
 */
import { basename, delimiter, join, resolve } from "node:path";
import { GLOBAL_HELP, parseCommandArgs, parseSeconds } from "./cli_args.ts";
import { type CliIo, createCliGateway, openCliRuntime } from "./cli_runtime.ts";
import { quietIo, type RunningGateway, runningGateway } from "./_code_mode.ts";
import { ToolscriptError, UsageError } from "../errors.ts";
import { serveGatewayHttp } from "../gateway/serve_http.ts";
import { createRuntimeRoutes } from "../codemode/runtime_routes.ts";
import { runSandboxed, type SandboxOutcome } from "../codemode/exec_sandbox.ts";

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

The program may import only "toolscript" (see 'toolscript types'). It may reach the network only
at the gateway and has no file, environment, subprocess, FFI or system access. Its stdout and
stderr pass through. Uses the gateway at TOOLSCRIPT_GATEWAY_URL when set, else starts one on the
config for the run. Exit status: 0 when the program finished, 1 on a type error, an uncaught
error or a timeout.

Options:
  --file <path>        Read the program from a file ('-' = stdin)
  --timeout <seconds>  Kill the program after this long (default ${DEFAULT_EXEC_TIMEOUT_SECONDS})
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
      throw new ToolscriptError(
        `The program ran past ${args.timeoutMs / 1000} s and was stopped`,
        { code: "timeout" },
      );
  }
}

async function runAgainst(
  gateway: RunningGateway,
  code: string,
  args: ExecArgs,
  io: CliIo,
): Promise<SandboxOutcome> {
  return await runSandboxed(code, {
    denoPath: await findDeno(io),
    gatewayOrigin: gateway.origin,
    gatewayToken: gateway.token,
    timeoutMs: args.timeoutMs,
    env: io.env,
    stdout: io.stdout,
    stderr: io.stderr,
    fetch: io.fetch,
    signal: io.signal,
  });
}

/**
 * Starts the config's gateway on a free loopback port for this run, guarded by a fresh
 * random token that only this run's program receives.
 */
async function runWithOwnGateway(code: string, args: ExecArgs, io: CliIo): Promise<SandboxOutcome> {
  const runtime = await openCliRuntime(io, args.config);
  await using gateway = createCliGateway(runtime);
  const token = randomToken();
  runtime.logger.redactor.addSecret(token);
  let origin = "";
  await using server = await serveGatewayHttp(gateway, {
    host: "127.0.0.1",
    port: 0,
    signal: io.signal,
    gatewayToken: token,
    routes: createRuntimeRoutes(gateway, () => origin),
  });
  origin = server.origin;
  await gateway.start();
  return await runAgainst({ origin, url: server.url, token }, code, args, io);
}

/**
 * The Deno that runs programs: this process's own executable when it is Deno, else (in a
 * `deno compile`d toolscript) the first `deno` on `PATH`.
 */
async function findDeno(io: CliIo): Promise<string> {
  const self = Deno.execPath();
  if (/^deno(\.exe)?$/i.test(basename(self))) return self;
  const names = Deno.build.os === "windows" ? ["deno.exe"] : ["deno"];
  for (const dir of (io.env("PATH") ?? "").split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(dir, name);
      const info = await Deno.stat(candidate).catch(() => undefined);
      if (info?.isFile) return candidate;
    }
  }
  throw new ToolscriptError("Cannot run programs: toolscript exec needs Deno 2 on PATH", {
    code: "internal",
    fix: "npm install -g deno",
  });
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

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
