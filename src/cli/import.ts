/**
 * `toolscript import (claude-code|claude-desktop|cursor|vscode) [--dry-run]`: copies the MCP
 * servers of another client's config files into ours, skipping names we have.
 */
import { ConfigError, UsageError } from "../errors.ts";
import { stripControlChars } from "../log.ts";
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import type { CliIo } from "./cli_runtime.ts";
import { openConfigEdit, saveConfigEdit, validateEdited } from "./_config_edit.ts";
import { quoteForTerminal } from "./_terminal.ts";
import { type Client, CLIENTS, readClientServers } from "./_client_configs.ts";

/** Parsed `import` arguments. */
export interface ImportArgs {
  client: Client;
  dryRun: boolean;
  config?: string;
  help: boolean;
}

/** Help text of `import`. */
export const IMPORT_HELP =
  `Usage: toolscript import (claude-code|claude-desktop|cursor|vscode) [--dry-run]

Copies the MCP servers of another client's config into the config file the CLI uses (the first
found by the lookup below; with none anywhere, $XDG_CONFIG_HOME/toolscript/config.json is
created). Names that exist are skipped and listed, as are entries that do not validate.

Read from (Linux and macOS; a name found twice is taken from the first file):
  claude-code      ~/.claude.json projects[<cwd>], ./.mcp.json, ~/.claude.json
  claude-desktop   $XDG_CONFIG_HOME/Claude/claude_desktop_config.json (default ~/.config),
                   ~/Library/Application Support/Claude/claude_desktop_config.json
  cursor           ./.cursor/mcp.json, ~/.cursor/mcp.json
  vscode           ./.vscode/mcp.json ("servers"; \${input:api-key} becomes \${API_KEY})

\${env:VAR} becomes \${VAR}; \${userHome} and \${workspaceFolder} become the home and current
directory.

Options:
  --dry-run   Print what would be imported; write nothing
${GLOBAL_HELP}`;

/** Parses `import` arguments (pure). */
export function parseImportArgs(argv: string[]): ImportArgs {
  const { values, positionals, global } = parseCommandArgs("import", argv, {
    "dry-run": { type: "boolean" },
  }, { min: 1, max: 1 });
  const client = positionals[0] as Client;
  if (!global.help && !CLIENTS.includes(client)) {
    throw new UsageError(
      `Unknown client ${quoteForTerminal(positionals[0])}; use one of ${CLIENTS.join(", ")}`,
      { fix: "toolscript import --help" },
    );
  }
  return { ...global, client, dryRun: values["dry-run"] === true };
}

/**
 * Imports the client's servers: one `Imported <name> (<type>) from <file>` line per server and
 * one `Skipped <name>: <reason>` per skipped one, then a summary line; with `--dry-run` the same
 * lines and nothing written. Prints names, types and files only, never a value from an entry.
 *
 * @throws {ConfigError} when none of the client's files exists, one is not JSON, or our config
 *   does not validate before the import.
 */
export async function runImport(args: ImportArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(IMPORT_HELP + "\n");
    return 0;
  }
  const found = await readClientServers(args.client, { home: io.home, cwd: io.cwd, env: io.env });
  const edit = await openConfigEdit(io, args.config, { create: true, command: "import" });
  const file = edit.target.file;
  const importedFrom = new Map<string, string>();
  const inputs = new Map<string, string>();
  const lines: string[] = [];
  for (const server of found.servers) {
    const name = quoteForTerminal(server.name);
    const from = stripControlChars(server.from);
    if (importedFrom.has(server.name)) {
      lines.push(`Skipped ${name}: already imported from ${importedFrom.get(server.name)}`);
      continue;
    }
    if (Object.hasOwn(edit.servers, server.name)) {
      lines.push(`Skipped ${name}: already in ${file}`);
      continue;
    }
    if (!server.entry) {
      lines.push(`Skipped ${name}: ${server.reason}`);
      continue;
    }
    const candidate = { ...edit.doc, mcpServers: { ...edit.servers } };
    Object.defineProperty(candidate.mcpServers, server.name, {
      value: server.entry,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    try {
      validateEdited(candidate, file, io.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const reason = error.message.startsWith(`${file}: `)
        ? error.message.slice(file.length + 2)
        : error.message;
      lines.push(`Skipped ${name}: ${stripControlChars(reason)}`);
      continue;
    }
    edit.doc.mcpServers = edit.servers = candidate.mcpServers;
    importedFrom.set(server.name, from);
    for (const [id, variable] of server.inputs) inputs.set(variable, id);
    const ignored = server.ignored.length
      ? ` (left out: ${server.ignored.map(quoteForTerminal).join(", ")})`
      : "";
    lines.push(`Imported ${name} (${server.entry.type}) from ${from}${ignored}`);
  }
  for (const [variable, id] of inputs) {
    lines.push(
      `Note: set ${variable} where the gateway runs (VS Code input ${quoteForTerminal(id)})`,
    );
  }
  const count = importedFrom.size;
  const servers = `${count} server${count === 1 ? "" : "s"}`;
  if (args.dryRun) {
    lines.push(`Dry run: would import ${servers} into ${file}; nothing written`);
  } else if (count === 0) {
    lines.push(`Nothing to import into ${file}`);
  } else {
    await saveConfigEdit(edit, io);
    lines.push(`Imported ${servers} into ${file}`);
  }
  io.stdout(lines.join("\n") + "\n");
  return 0;
}
