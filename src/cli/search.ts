/**
 * `toolscript search <query>`: ranks every server's tools by name and description (full-text,
 * prefix and fuzzy matching, in memory) and prints the best matches.
 */
import { GLOBAL_HELP, parseCommandArgs } from "./cli_args.ts";
import type { CliIo } from "./cli_runtime.ts";
import { loadCatalog, quietIo } from "./_code_mode.ts";
import { UsageError } from "../errors.ts";
import { createToolSearch } from "../codemode/tool_search.ts";
import { stripControlChars } from "../log.ts";
import { terminalJson } from "./_terminal.ts";

/** Parsed `search` arguments. */
export interface SearchArgs {
  config?: string;
  help: boolean;
  query: string;
  limit: number;
  json: boolean;
}

/** Default `--limit`. */
export const DEFAULT_SEARCH_LIMIT = 10;

/** Help text of `search`. */
export const SEARCH_HELP = `Usage: toolscript search <query> [--limit N] [--json]

Ranks every server's tools by name and description (full-text and fuzzy) and prints the best
matches, one per line: <server>__<tool>, a tab, the first line of its description.
Uses the gateway at TOOLSCRIPT_GATEWAY_URL when set, else connects to the configured servers.

Options:
  --limit <n>   Most results (default ${DEFAULT_SEARCH_LIMIT})
  --json        Print the results as a JSON array (id, server, tool, score, summary)
${GLOBAL_HELP}`;

/** Parses `search` arguments (pure); several words form one query. */
export function parseSearchArgs(argv: string[]): SearchArgs {
  const { values, positionals, global } = parseCommandArgs("search", argv, {
    limit: { type: "string" },
    json: { type: "boolean" },
  }, { min: 1, max: Number.MAX_SAFE_INTEGER });
  let limit = DEFAULT_SEARCH_LIMIT;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (typeof values.limit !== "string" || !/^\d+$/.test(values.limit) || limit < 1) {
      throw new UsageError(`--limit must be a whole number from 1, got "${values.limit}"`, {
        fix: "toolscript search --help",
      });
    }
  }
  return { ...global, query: positionals.join(" "), limit, json: values.json === true };
}

/** Prints the ranked tools; no match prints nothing on stdout (a note on stderr), exit 0. */
export async function runSearch(args: SearchArgs, io: CliIo): Promise<number> {
  if (args.help) {
    io.stdout(SEARCH_HELP + "\n");
    return 0;
  }
  const { tools } = await loadCatalog(quietIo(io), args.config);
  const hits = createToolSearch(tools).search(args.query, { limit: args.limit });
  if (args.json) {
    io.stdout(terminalJson(hits) + "\n");
    return 0;
  }
  if (hits.length === 0) io.stderr(`No tool matches "${stripControlChars(args.query)}"\n`);
  for (const hit of hits) {
    io.stdout(
      `${stripControlChars(hit.id).replaceAll("\t", " ")}\t${stripControlChars(hit.summary)}\n`,
    );
  }
  return 0;
}
