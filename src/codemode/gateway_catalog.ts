/**
 * The gateway's exposed tools as the {@link CatalogTool}s code mode works with (server, own
 * name and exposed name from the gateway's exposure table, never guessed from a name), and the
 * selection of tools by server or by server and tool.
 */
import type { Gateway } from "../gateway/gateway.ts";
import { NAME_SEPARATOR } from "../config/name_separator.ts";
import type { CatalogTool } from "./tool_catalog.ts";
import { UsageError } from "../errors.ts";

/** Selects every tool of `server`, or only its tool `tool`. */
export interface ToolFilter {
  server: string;
  /** The tool's own name (without the `<server>__` prefix). */
  tool?: string;
}

/**
 * Every tool the gateway exposes right now, in listing order: those hidden by `tools.allow` /
 * `tools.deny` or lost to an earlier server's name are not there.
 */
export function catalogOfGateway(gateway: Gateway): CatalogTool[] {
  return gateway.exposedNames.toolEntries.map(({ server, name, tool }) => ({
    server,
    name,
    exposedName: tool.name,
    description: tool.description,
    inputSchema: (tool.inputSchema ?? { type: "object" }) as Record<string, unknown>,
    outputSchema: tool.outputSchema as Record<string, unknown> | undefined,
  }));
}

/**
 * Splits a code-mode tool id `<server>__<tool>` at its first `__` (server names never contain
 * one); undefined when there is none.
 */
export function parseToolId(id: string): { server: string; tool: string } | undefined {
  const at = id.indexOf(NAME_SEPARATOR);
  if (at <= 0) return undefined;
  return { server: id.slice(0, at), tool: id.slice(at + NAME_SEPARATOR.length) };
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

/**
 * Turns `--filter` entries (`<server>` or `<server>__<tool>`) into {@link ToolFilter}s,
 * checking each names a server of `servers` or a tool of `tools`.
 *
 * @throws {UsageError} for an entry that names nothing.
 */
export function resolveFilters(
  entries: readonly string[],
  tools: readonly CatalogTool[],
  servers: readonly string[],
): ToolFilter[] {
  return entries.map((entry) => {
    if (servers.includes(entry)) return { server: entry };
    const parts = parseToolId(entry);
    if (parts && tools.some((t) => t.server === parts.server && t.name === parts.tool)) {
      return { server: parts.server, tool: parts.tool };
    }
    throw new UsageError(`No server or tool named "${entry}"`, { fix: "toolscript tools" });
  });
}
