/**
 * `toolscript types [--filter …]`: prints the TypeScript declarations of the tools module, so a
 * model can read the exact functions and types `exec` programs get.
 */
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import type { CliIo } from "./cli_runtime.ts";
import { loadCatalog, quietIo } from "./_code_mode.ts";
import { filterCatalog, resolveFilters } from "../codemode/gateway_catalog.ts";
import { generateToolsDeclarations } from "../codemode/tools_module.ts";
import { stripControlChars } from "../log.ts";

/** Parsed `types` arguments. */
export interface TypesArgs {
  config?: string;
  help: boolean;
  /** Raw `--filter` entries: `<server>` or `<server>__<tool>`. */
  filter: string[];
}

/** Help text of `types`. */
export const TYPES_HELP = `Usage: toolscript types [--filter <server>|<server>__<tool>[,…]]

Prints the TypeScript declarations of the "toolscript" module that 'toolscript exec' programs
import: one namespace per server, one typed async function per tool, and ToolError.
Uses the gateway at TOOLSCRIPT_GATEWAY_URL when set, else connects to the configured servers.

Options:
  --filter <list>   Only these servers or tools, comma-separated (e.g. github,calc__add)
${GLOBAL_HELP}`;

/** Parses `types` arguments (pure). */
export function parseTypesArgs(argv: string[]): TypesArgs {
  const { values, global } = parseCommandArgs("types", argv, {
    filter: { type: "string", multiple: true },
  }, { min: 0, max: 0 });
  const raw = (values.filter as unknown as string[] | undefined) ?? [];
  const filter = raw.flatMap((list) => list.split(",")).map((s) => s.trim()).filter(Boolean);
  return { ...global, filter };
}

/** Prints the declarations; an unknown `--filter` entry is a usage error. */
export async function runTypes(args: TypesArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(TYPES_HELP + "\n");
    return 0;
  }
  const quiet = quietIo(io);
  const { tools, servers } = await loadCatalog(quiet, args.config);
  const selected = filterCatalog(tools, resolveFilters(args.filter, tools, servers));
  // The generator escapes or drops control characters already; this keeps the terminal safe
  // should one ever slip through.
  io.stdout(stripControlChars(generateToolsDeclarations(selected)));
  return 0;
}
