/**
 * `toolscript add <name> (<url> | -- <command> [args…])`: adds one server entry to the config
 * file the CLI would use, as `claude mcp add` does, validated before anything is written.
 */
import { ConfigError, UsageError } from "../errors.ts";
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import type { CliIo } from "./cli_runtime.ts";
import { openConfigEdit, saveConfigEdit, unsetVariables } from "./_config_edit.ts";
import { quoteForTerminal } from "./_terminal.ts";

/** Transports `add` writes. */
export type AddTransport = "http" | "sse" | "stdio";

/** Parsed `add` arguments. */
export interface AddArgs {
  name: string;
  transport: AddTransport;
  /** The server's URL (http, sse). */
  url?: string;
  /** The command and its arguments, given after `--` (stdio). */
  command?: string[];
  headers: Record<string, string>;
  env: Record<string, string>;
  config?: string;
  help: boolean;
}

/** Help text of `add`. */
export const ADD_HELP =
  `Usage: toolscript add <name> <url> [--transport http|sse] [--header "K: V"]…
       toolscript add <name> [--env K=V]… -- <command> [args…]

Adds a server to the config file the CLI uses (the first found by the lookup below; with none
anywhere, $XDG_CONFIG_HOME/toolscript/config.json is created). The file is rewritten as JSON
with 2-space indent, every other key and entry kept as it was. \${VAR} in values is written as
is and expanded when the config is loaded. A running gateway picks the change up.

Examples:
  toolscript add fs -- npx -y @modelcontextprotocol/server-filesystem /tmp
  toolscript add docs https://docs.example/mcp --header "Authorization: Bearer \${DOCS_TOKEN}"

Arguments:
  <name>      Server name: 1 to 64 letters, digits, '_' or '-'
  <url>       The server's URL (http or sse)
  -- <command> [args…]
              The command line of a stdio server

Options:
  --transport http|sse|stdio   Default: stdio with --, else http
  --header "K: V"              An HTTP header (repeatable; http and sse)
  --env K=V                    An environment variable of the command (repeatable; stdio)
${GLOBAL_HELP}`;

/** Parses `add` arguments (pure). Everything after `--` is the stdio command line. */
export function parseAddArgs(argv: string[]): AddArgs {
  const dash = argv.indexOf("--");
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? undefined : argv.slice(dash + 1);
  const { values, positionals, global } = parseCommandArgs("add", own, {
    transport: { type: "string" },
    header: { type: "string", multiple: true },
    env: { type: "string", multiple: true },
  }, command ? { min: 1, max: 1 } : { min: 2, max: 2 });
  const [name = "", url] = positionals;
  const headerFlags = (values.header ?? []) as unknown as string[];
  const envFlags = (values.env ?? []) as unknown as string[];
  const args: AddArgs = {
    ...global,
    name,
    transport: command ? "stdio" : "http",
    url,
    command,
    headers: {},
    env: {},
  };
  if (global.help) return args;
  const usage = (message: string) => new UsageError(message, { fix: "toolscript add --help" });
  const transport = values.transport as string | undefined;
  if (transport !== undefined) {
    if (transport !== "http" && transport !== "sse" && transport !== "stdio") {
      throw usage(`--transport must be http, sse or stdio, got ${quoteForTerminal(transport)}`);
    }
    args.transport = transport;
  }
  if (args.transport === "stdio" && !command) {
    throw usage(
      "A stdio server takes its command line after --: toolscript add <name> -- <command>",
    );
  }
  if (args.transport !== "stdio" && command) {
    throw usage(`An ${args.transport} server takes a URL, not a command line after --`);
  }
  if (command && command.length === 0) throw usage("Missing the command after --");
  if (args.transport === "stdio" && headerFlags.length) {
    throw usage("--header applies only to http and sse servers");
  }
  if (args.transport !== "stdio" && envFlags.length) {
    throw usage(
      "--env applies only to stdio servers; put ${VAR} in --header values for http and sse",
    );
  }
  // Values may be secrets: the errors below never quote them.
  for (const header of headerFlags) {
    const colon = header.indexOf(":");
    const key = header.slice(0, colon).trim();
    if (colon < 0 || !key) throw usage('--header must be "Name: value"');
    args.headers[key] = header.slice(colon + 1).trim();
  }
  for (const pair of envFlags) {
    const equals = pair.indexOf("=");
    const key = pair.slice(0, equals);
    if (equals < 0 || !key) throw usage("--env must be NAME=value");
    args.env[key] = pair.slice(equals + 1);
  }
  return args;
}

/** The config entry `add` writes for `args`. */
export function serverEntry(args: AddArgs): Record<string, unknown> {
  if (args.transport === "stdio") {
    const [command, ...rest] = args.command ?? [];
    return {
      type: "stdio",
      command,
      args: rest,
      ...(Object.keys(args.env).length ? { env: args.env } : {}),
    };
  }
  return {
    type: args.transport,
    url: args.url,
    ...(Object.keys(args.headers).length ? { headers: args.headers } : {}),
  };
}

/**
 * Adds the server and prints `Added <name> to <file>`; a `${VAR}` the entry uses that is unset
 * here gets a warning on stderr (the gateway may run elsewhere).
 *
 * @throws {ConfigError} when the name exists, or the result does not validate (bad name, bad
 *   URL, …); the file is unchanged then.
 */
export async function runAdd(args: AddArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(ADD_HELP + "\n");
    return 0;
  }
  const edit = await openConfigEdit(io, args.config, { create: true, command: "add" });
  if (Object.hasOwn(edit.servers, args.name)) {
    throw new ConfigError(
      `Server ${quoteForTerminal(args.name)} already exists; remove it first to replace it`,
      {
        file: edit.target.file,
        path: `mcpServers.${args.name}`,
        fix: `toolscript remove ${args.name}` + (args.config ? ` --config ${args.config}` : ""),
      },
    );
  }
  const entry = serverEntry(args);
  // defineProperty: a name like "__proto__" becomes a key (that the validator refuses).
  Object.defineProperty(edit.servers, args.name, {
    value: entry,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  await saveConfigEdit(edit, io);
  io.stdout(`Added ${args.name} to ${edit.target.file}\n`);
  for (const name of unsetVariables(entry, io.env)) {
    io.stderr(`warning: \${${name}} is not set here; set it where the gateway runs\n`);
  }
  return 0;
}
