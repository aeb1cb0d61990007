/**
 * Turns the gateway's namespaced tool list (`<server>__<tool>`) into the {@link CatalogTool}s
 * code mode works with, and selects tools by server or by server and tool.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "../gateway/gateway.ts";
import type { CatalogTool } from "./tool_catalog.ts";

/** Splits a namespaced name into server and tool, or `undefined` when no server matches. */
export type SplitToolName = (namespaced: string) => { server: string; name: string } | undefined;

/** Selects every tool of `server`, or only its tool `tool`. */
export interface ToolFilter {
  server: string;
  /** The tool's own name (without the `<server>__` prefix). */
  tool?: string;
}

const SEPARATOR = "__";

/**
 * A {@link SplitToolName} over known server names: the longest server name that prefixes
 * the namespaced name wins, so `a__b` and `a` split `a__b__c` as `a__b` / `c`.
 */
export function splitByServerNames(serverNames: Iterable<string>): SplitToolName {
  const names = [...serverNames].sort((a, b) => b.length - a.length);
  return (namespaced) => {
    const server = names.find((name) => namespaced.startsWith(name + SEPARATOR));
    if (server === undefined) return undefined;
    return { server, name: namespaced.slice(server.length + SEPARATOR.length) };
  };
}

/** Converts namespaced tools to catalog tools; tools no server claims are dropped. */
export function catalogFromTools(tools: readonly Tool[], split: SplitToolName): CatalogTool[] {
  const catalog: CatalogTool[] = [];
  for (const tool of tools) {
    const parts = split(tool.name);
    if (!parts) continue;
    catalog.push({
      server: parts.server,
      name: parts.name,
      description: tool.description,
      inputSchema: (tool.inputSchema ?? { type: "object" }) as Record<string, unknown>,
      outputSchema: tool.outputSchema as Record<string, unknown> | undefined,
    });
  }
  return catalog;
}

/** Every tool the gateway offers right now, split with {@link Gateway.resolve}. */
export function catalogOfGateway(gateway: Gateway): CatalogTool[] {
  return catalogFromTools(gateway.listTools(), (namespaced) => {
    const target = gateway.resolve(namespaced);
    return target && { server: target.upstream.name, name: target.name };
  });
}

/** The tools any of `filters` selects (all tools when `filters` is empty), in catalog order. */
export function filterCatalog(
  tools: readonly CatalogTool[],
  filters: readonly ToolFilter[],
): CatalogTool[] {
  if (filters.length === 0) return [...tools];
  return tools.filter((tool) =>
    filters.some((f) => f.server === tool.server && (f.tool === undefined || f.tool === tool.name))
  );
}
