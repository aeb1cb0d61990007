/**
 * Dispatches argv to one command. Commands are looked up in a table so `--help` lists them
 * all and an unknown command is a usage error.
 */
import { UsageError } from "../errors.ts";
import type { CliIo } from "./cli_runtime.ts";
import { parseGatewayArgs, runGateway } from "./gateway.ts";
import { parseServersArgs, runServers } from "./servers.ts";
import { parseToolsArgs, runTools } from "./tools.ts";
import { parseCallArgs, runCall } from "./call.ts";
import { parseStatusArgs, runStatus } from "./status.ts";
import { parseAuthArgs, runAuth } from "./auth.ts";
import { parseLogoutArgs, runLogout } from "./logout.ts";
import { parseStoreArgs, runStore } from "./store.ts";
import { parseExecArgs, runExec } from "./exec.ts";
import { parseTypesArgs, runTypes } from "./types.ts";
import { parseSearchArgs, runSearch } from "./search.ts";
import { parseTrustArgs, runTrust } from "./trust.ts";
import { parseAddArgs, runAdd } from "./add.ts";
import { parseRemoveArgs, runRemove } from "./remove.ts";
import { parseImportArgs, runImport } from "./import.ts";
import { createRuntimeRoutes } from "../codemode/runtime_routes.ts";

interface Command {
  summary: string;
  run: (argv: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  gateway: {
    summary: "Serve every configured server's tools as one MCP endpoint",
    run: (argv, io) => runGateway(parseGatewayArgs(argv), io, { routes: createRuntimeRoutes }),
  },
  servers: {
    summary: "List configured servers",
    run: (argv, io) => runServers(parseServersArgs(argv), io),
  },
  tools: {
    summary: "List tools of every server (or one)",
    run: (argv, io) => runTools(parseToolsArgs(argv), io),
  },
  call: {
    summary: "Call one tool and print the result JSON",
    run: (argv, io) => runCall(parseCallArgs(argv), io),
  },
  status: {
    summary: "Show each server's connection and credential state",
    run: (argv, io) => runStatus(parseStatusArgs(argv), io),
  },
  auth: {
    summary: "Log in to an OAuth server and store its credentials",
    run: (argv, io) => runAuth(parseAuthArgs(argv), io),
  },
  logout: {
    summary: "Revoke and delete a server's stored credentials",
    run: (argv, io) => runLogout(parseLogoutArgs(argv), io),
  },
  store: {
    summary: "Re-encrypt the Redis store under a new key (store rekey)",
    run: (argv, io) => runStore(parseStoreArgs(argv), io),
  },
  add: {
    summary: "Add a server to the config file (a URL, or a command after --)",
    run: (argv, io) => runAdd(parseAddArgs(argv), io),
  },
  remove: {
    summary: "Remove a server from the config file",
    run: (argv, io) => runRemove(parseRemoveArgs(argv), io),
  },
  import: {
    summary: "Copy the MCP servers of Claude Code, Claude Desktop, Cursor or VS Code",
    run: (argv, io) => runImport(parseImportArgs(argv), io),
  },
  trust: {
    summary: "Show what a project's ./.toolscript.json runs and reaches, then trust it",
    run: (argv, io) => runTrust(parseTrustArgs(argv), io),
  },
  exec: {
    summary: "Type-check and run a TypeScript program that calls tools, sandboxed",
    run: (argv, io) => runExec(parseExecArgs(argv), io),
  },
  types: {
    summary: "Print the TypeScript declarations exec programs import",
    run: (argv, io) => runTypes(parseTypesArgs(argv), io),
  },
  search: {
    summary: "Find tools by name and description",
    run: (argv, io) => runSearch(parseSearchArgs(argv), io),
  },
};

/** The top-level help text. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) =>
    `  ${name.padEnd(width)}  ${c.summary}`
  );
  return `toolscript — one MCP gateway for many servers, with authentication done right

Usage: toolscript <command> [options]

Commands:
${lines.join("\n")}

Run 'toolscript <command> --help' for a command's options.
Environment: TOOLSCRIPT_CONFIG, TOOLSCRIPT_HOME, TOOLSCRIPT_LOG, TOOLSCRIPT_GATEWAY_URL,
TOOLSCRIPT_GATEWAY_TOKEN, TOOLSCRIPT_TOKEN_<SERVER>, TOOLSCRIPT_STORE_URL, TOOLSCRIPT_STORE_KEY,
MCP_SERVER_URL, MCP_AUTH_TOKEN
`;
}

/** Runs the command named by `argv[0]` and returns its exit status. */
export function runCommand(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // A usage error: the help goes where errors go, so scripts see empty output.
    io.stderr(mainHelp());
    return Promise.resolve(2);
  }
  if (name === "--help" || name === "-h" || name === "help") {
    io.stdout(mainHelp());
    return Promise.resolve(0);
  }
  const command = COMMANDS[name];
  if (!command) {
    return Promise.reject(
      new UsageError(`Unknown command "${name}"`, { fix: "toolscript --help" }),
    );
  }
  return command.run(rest, io);
}
