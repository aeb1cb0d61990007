/**
 * Full-text search over the gateway's tools for `toolscript search`: BM25 ranking with
 * prefix and fuzzy matching (MiniSearch), entirely in memory, no model download.
 */

import MiniSearch from "minisearch";
import { stemmer } from "stemmer";
import { firstLine } from "./_jsdoc.ts";
import { splitWords } from "./names.ts";
import type { CatalogTool } from "./tool_catalog.ts";

/** One ranked tool. */
export interface ToolSearchHit {
  /** The gateway's name for the tool: `<server>__<tool>`. */
  id: string;
  /** Upstream server name. */
  server: string;
  /** Tool name on that server. */
  tool: string;
  /** Relevance; higher is better. Only comparable within one search. */
  score: number;
  /** First non-blank line of the tool's description (`""` when it has none). */
  summary: string;
}

/** Options for {@link ToolSearch.search}. */
export interface ToolSearchOptions {
  /** Most hits to return; defaults to 10. */
  limit?: number;
}

/** A search index over a fixed list of tools. */
export interface ToolSearch {
  /** Ranks the tools against `query`, best first; ties are ordered by id. */
  search(query: string, options?: ToolSearchOptions): ToolSearchHit[];
}

interface IndexedTool {
  key: number;
  id: string;
  server: string;
  tool: string;
  summary: string;
  name: string;
  serverName: string;
  description: string;
}

const STOP_WORDS = new Set([
  "a",
  "an",
  "and",
  "are",
  "as",
  "at",
  "be",
  "by",
  "for",
  "from",
  "in",
  "is",
  "it",
  "of",
  "on",
  "or",
  "that",
  "the",
  "this",
  "to",
  "with",
]);

/**
 * Words people use for what tool names usually call otherwise, added to a query that has
 * them (a query word keeps its own matches too). Generic software vocabulary only.
 */
const SYNONYMS: Record<string, string[]> = {
  add: ["create"],
  make: ["create"],
  new: ["create"],
  open: ["create"],
  folder: ["directory"],
  dir: ["directory"],
  remove: ["delete"],
  erase: ["delete"],
  forget: ["delete"],
  drop: ["delete"],
  repeat: ["echo"],
  show: ["get", "list"],
  fetch: ["get", "read"],
  rename: ["move"],
  send: ["post"],
  find: ["search"],
  lookup: ["search"],
  remember: ["create", "add"],
  pr: ["pull", "request"],
  repo: ["repository"],
};

function withSynonyms(query: string): string {
  const extra = splitWords(query).flatMap((word) => SYNONYMS[word.toLowerCase()] ?? []);
  return extra.length ? `${query} ${extra.join(" ")}` : query;
}

function tokenize(text: string): string[] {
  return splitWords(text);
}

function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  return STOP_WORDS.has(lower) ? null : stemmer(lower);
}

/**
 * Builds a search index over `tools`. Tool names count most (split into words at
 * camelCase, snake_case and kebab-case boundaries), then server names, then descriptions.
 * Query words match whole words, prefixes (`ech` finds `echo`) and, from four letters on,
 * words one or two edits away. Any word may match (OR); tools matching more words rank
 * higher. A tool listed twice is indexed once.
 *
 * @example
 * ```ts
 * import { createToolSearch } from "./tool_search.ts";
 * const index = createToolSearch([
 *   { server: "calc", name: "add", description: "Add two numbers", inputSchema: {} },
 * ]);
 * index.search("add numbers", { limit: 5 }); // [{ id: "calc__add", ... }]
 * ```
 */
export function createToolSearch(tools: readonly CatalogTool[]): ToolSearch {
  const index = new MiniSearch<IndexedTool>({
    idField: "key",
    fields: ["name", "serverName", "description"],
    tokenize,
    processTerm,
    searchOptions: {
      boost: { name: 3, serverName: 1.5, description: 1 },
      prefix: (term) => term.length >= 2,
      fuzzy: (term) => term.length >= 4 ? 0.2 : false,
      combineWith: "OR",
    },
  });
  const seen = new Set<string>();
  const documents: IndexedTool[] = [];
  for (const tool of tools) {
    const id = `${tool.server}__${tool.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    documents.push({
      key: documents.length,
      id,
      server: tool.server,
      tool: tool.name,
      summary: firstLine(tool.description),
      name: tool.name,
      serverName: tool.server,
      description: tool.description ?? "",
    });
  }
  index.addAll(documents);
  return {
    search(query: string, options: ToolSearchOptions = {}): ToolSearchHit[] {
      const limit = options.limit ?? 10;
      if (!Number.isInteger(limit) || limit < 0) {
        throw new RangeError(`Cannot search tools: limit must be a whole number, got ${limit}`);
      }
      return index.search(withSynonyms(query))
        .map((result) => {
          const doc = documents[result.id as number];
          return {
            id: doc.id,
            server: doc.server,
            tool: doc.tool,
            score: result.score,
            summary: doc.summary,
          };
        })
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, limit);
    },
  };
}
