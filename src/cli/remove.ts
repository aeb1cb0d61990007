/**
 * `toolscript remove <name>`: deletes one server entry from the config file the CLI would use,
 * keeping everything else.
 */
import { ConfigError } from "../errors.ts";
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import type { CliIo } from "./cli_runtime.ts";
import { openConfigEdit, saveConfigEdit } from "./_config_edit.ts";
import { quoteForTerminal } from "./_terminal.ts";

/** Parsed `remove` arguments. */
export interface RemoveArgs {
  name: string;
  config?: string;
  help: boolean;
}

/** Help text of `remove`. */
export const REMOVE_HELP = `Usage: toolscript remove <name>

Removes a server from the config file the CLI uses (the first found by the lookup below). The
file is rewritten as JSON with 2-space indent, every other key and entry kept as it was. Stored
credentials stay; run toolscript logout <name> first to revoke them. A running gateway picks the
change up.

Arguments:
  <name>   The server to remove
${GLOBAL_HELP}`;

/** Parses `remove` arguments (pure). */
export function parseRemoveArgs(argv: string[]): RemoveArgs {
  const { positionals, global } = parseCommandArgs("remove", argv, {}, { min: 1, max: 1 });
  return { ...global, name: positionals[0] ?? "" };
}

/**
 * Removes the server and prints `Removed <name> from <file>`.
 *
 * @throws {ConfigError} when there is no config file, or no server of that name in it; the file
 *   is unchanged then.
 */
export async function runRemove(args: RemoveArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(REMOVE_HELP + "\n");
    return 0;
  }
  const edit = await openConfigEdit(io, args.config, { create: false, command: "remove" });
  if (!Object.hasOwn(edit.servers, args.name)) {
    throw new ConfigError(`No server ${quoteForTerminal(args.name)} in the config`, {
      file: edit.target.file,
      fix: "toolscript servers" + (args.config ? ` --config ${args.config}` : ""),
    });
  }
  delete edit.servers[args.name];
  await saveConfigEdit(edit, io);
  io.stdout(`Removed ${args.name} from ${edit.target.file}\n`);
  return 0;
}
