/**
 * Reads everything an upstream offers (tools, prompts, resources, resource templates),
 * following pagination, asking only for what the server's capabilities announce.
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js";

/** What one upstream offers. */
export interface UpstreamCatalog {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  templates: ResourceTemplate[];
}

const MAX_PAGES = 100;

/** Lists the upstream's tools, prompts and resources. */
export async function fetchCatalog(client: Client, timeoutMs: number): Promise<UpstreamCatalog> {
  const caps = client.getServerCapabilities() ?? {};
  const options = { timeout: timeoutMs };
  const [tools, prompts, resources, templates] = await Promise.all([
    caps.tools
      ? paginate(async (cursor) => {
        const r = await client.listTools({ cursor }, options);
        return [r.tools, r.nextCursor];
      })
      : [],
    caps.prompts
      ? paginate(async (cursor) => {
        const r = await client.listPrompts({ cursor }, options);
        return [r.prompts, r.nextCursor];
      })
      : [],
    caps.resources
      ? paginate(async (cursor) => {
        const r = await client.listResources({ cursor }, options);
        return [r.resources, r.nextCursor];
      })
      : [],
    caps.resources
      // Templates are optional even for resource servers; an old server may not know the method.
      ? paginate(async (cursor) => {
        const r = await client.listResourceTemplates({ cursor }, options);
        return [r.resourceTemplates, r.nextCursor];
      }).catch(() => [])
      : [],
  ]);
  return { tools, prompts, resources, templates };
}

async function paginate<T>(
  page: (cursor: string | undefined) => Promise<[T[], string | undefined]>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const [items, next] = await page(cursor);
    all.push(...items);
    cursor = next;
    if (!cursor) break;
  }
  return all;
}
