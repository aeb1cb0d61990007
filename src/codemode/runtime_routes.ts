/**
 * The code-mode routes the gateway mounts beside `/mcp`: `GET /runtime/tools.ts`, the typed
 * tools module generated from the gateway's current tool list, and `GET /runtime/catalog.json`,
 * the same tools as data for `toolscript types` and `search` against a running gateway.
 */
import type { Gateway } from "../gateway/gateway.ts";
import type { RouteHandler } from "../gateway/http_endpoint.ts";
import { catalogOfGateway, filterCatalog, type ToolFilter } from "./gateway_catalog.ts";
import { generateToolsModule } from "./tools_module.ts";

/** Path of the tools module. */
export const TOOLS_MODULE_PATH = "/runtime/tools.ts";

/**
 * Path of the tool catalog: JSON `{"servers": [<server name>…], "tools": [CatalogTool…]}`, each
 * tool with its server, own name, exposed name, description and schemas (no credential).
 */
export const TOOL_CATALOG_PATH = "/runtime/catalog.json";

/**
 * Creates the routes: `GET /runtime/tools.ts[?server=S[&tool=T]]` answers the module from
 * {@link generateToolsModule} (`Content-Type: application/typescript`), for every tool, the
 * tools of server `S`, or its tool `T` (the upstream's own name). The module calls the
 * gateway at `origin()` (its own `http://host:port`, read at request time because the port
 * is known only once the server listens).
 *
 * Each module is generated once per `gateway.version` and filter and kept in memory; a change
 * of any upstream's tools drops them all. A filter that selects nothing answers 404, without
 * being remembered. The module is built from tool names, schemas and descriptions only, so it
 * holds no credential or configured header value. `GET /runtime/catalog.json` answers the
 * tools as {@link TOOL_CATALOG_PATH} says.
 *
 * @example
 * ```ts ignore
 * await serveGatewayHttp(gateway, { host, port, routes: createRuntimeRoutes(gateway, () => origin) });
 * ```
 */
export function createRuntimeRoutes(
  gateway: Gateway,
  origin: () => string,
): Record<string, RouteHandler> {
  let cachedVersion = -1;
  const modules = new Map<string, string>();

  function moduleFor(filter: ToolFilter | undefined): string | undefined {
    if (gateway.version !== cachedVersion) {
      modules.clear();
      cachedVersion = gateway.version;
    }
    const key = filter ? JSON.stringify([filter.server, filter.tool ?? null]) : "*";
    const cached = modules.get(key);
    if (cached !== undefined) return cached;
    const tools = filterCatalog(catalogOfGateway(gateway), filter ? [filter] : []);
    if (filter && tools.length === 0) return undefined;
    const source = generateToolsModule(tools, {
      gatewayUrl: origin(),
      onWarning: (message) => gateway.logger.debug("tools module", { warning: message }),
    });
    modules.set(key, source);
    return source;
  }

  function serveToolsModule(request: Request): Response {
    const params = new URL(request.url).searchParams;
    const server = params.get("server") ?? undefined;
    const tool = params.get("tool") ?? undefined;
    if (tool !== undefined && server === undefined) {
      return text(400, `The "tool" parameter needs a "server" parameter\n`);
    }
    const source = moduleFor(server === undefined ? undefined : { server, tool });
    if (source === undefined) {
      const what = tool === undefined ? `server "${server}"` : `tool "${server}__${tool}"`;
      return text(404, `No tools for ${what}\n`);
    }
    return new Response(source, {
      headers: {
        "content-type": "application/typescript; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  }

  function serveCatalog(): Response {
    const body = { servers: [...gateway.upstreams.keys()], tools: catalogOfGateway(gateway) };
    return new Response(JSON.stringify(body), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }

  return { [TOOLS_MODULE_PATH]: serveToolsModule, [TOOL_CATALOG_PATH]: serveCatalog };
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
