/**
 * The code-mode routes the gateway mounts beside `/mcp`: `GET /runtime/tools.ts`, the typed
 * tools module generated from the gateway's current tool list, and `GET /runtime/catalog.json`,
 * the same tools as data for `toolscript types` and `search` against a running gateway.
 */
import type { Gateway } from "../gateway/gateway.ts";
import type { RouteHandler } from "../gateway/http_endpoint.ts";
import { catalogOfGateway, filterCatalog, type ToolFilter } from "./gateway_catalog.ts";
import { generateToolsModule } from "./tools_module.ts";
import { gatewayChecker, type ProgramChecker, toolsModuleHash } from "./warm_checker.ts";

/** Path of the tools module. */
export const TOOLS_MODULE_PATH = "/runtime/tools.ts";

/**
 * Path of the tool catalog: JSON `{"servers": [<server name>…], "tools": [CatalogTool…]}`, each
 * tool with its server, own name, exposed name, description and schemas (no credential).
 */
export const TOOL_CATALOG_PATH = "/runtime/catalog.json";

/**
 * Path of the warm type-check: `GET /runtime/check?tools=<SHA-256 hex of the tools module>&
 * program=<base64url of the program's UTF-8>` answers JSON `{"verdict": "clean" | "unsure"}`;
 * "clean" only when `tools` names the module the gateway serves now and the program
 * type-checks against it with no error (see `WarmChecker`).
 */
export const CHECK_PATH = "/runtime/check";

/** Longest `program` parameter of {@link CHECK_PATH} (base64url characters). */
export const MAX_CHECK_PROGRAM_CHARS = 256 * 1024;

/** Options of {@link createRuntimeRoutes}. */
export interface RuntimeRoutesOptions {
  /** The checker behind {@link CHECK_PATH}; default the gateway's shared `WarmChecker`. */
  checker?: ProgramChecker;
  /** The environment (Deno's location, its cache, the run root); default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
}

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
  options: RuntimeRoutesOptions = {},
): Record<string, RouteHandler> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
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

  async function serveCheck(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const hash = params.get("tools") ?? "";
    const encoded = params.get("program") ?? "";
    if (encoded.length > MAX_CHECK_PROGRAM_CHARS || !/^[A-Za-z0-9_-]*$/.test(encoded)) {
      return text(
        400,
        `The "program" parameter must be base64url, at most ` +
          `${MAX_CHECK_PROGRAM_CHARS} characters\n`,
      );
    }
    const program = decodeBase64Url(encoded);
    const source = moduleFor(undefined)!;
    let verdict: "clean" | "unsure" = "unsure";
    if (program !== undefined && hash === await toolsModuleHash(source)) {
      const checker = options.checker ?? await gatewayChecker(gateway, env);
      verdict = await checker.check(program, source);
    }
    return new Response(JSON.stringify({ verdict }), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }

  return {
    [TOOLS_MODULE_PATH]: serveToolsModule,
    [TOOL_CATALOG_PATH]: serveCatalog,
    [CHECK_PATH]: serveCheck,
  };
}

/** The UTF-8 text of base64url `encoded`, or undefined when it is not valid UTF-8. */
function decodeBase64Url(encoded: string): string | undefined {
  try {
    const binary = atob(encoded.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
