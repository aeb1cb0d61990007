/**
 * The code-mode routes the gateway mounts beside `/mcp`: `GET /runtime/tools.ts`, the typed
 * tools module generated from the gateway's current tool list, and `GET /runtime/catalog.json`,
 * the same tools as data for `toolscript types` and `search` against a running gateway, and
 * `POST /runtime/check`, the warm type-check of a program against that module.
 */
import type { Gateway } from "../gateway/gateway.ts";
// @ts-types="@modelcontextprotocol/sdk/server/requestBody"
import {
  readRequestBody,
  requestBodyTooLargeMessage,
} from "@modelcontextprotocol/sdk/server/requestBody.js";
import type { MethodRoutes, RouteHandler } from "../gateway/http_endpoint.ts";
import { isRecord } from "../config/is_record.ts";
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
 * Path of the warm type-check: `POST /runtime/check` with `Content-Type: application/json` and
 * body `{"tools": "<SHA-256 hex of the tools module>", "program": "<the program's source>"}`
 * (at most {@link MAX_CHECK_BODY_BYTES}, else 413; bad JSON or fields 400; another content
 * type 415; GET 405) answers JSON `{"verdict": "clean" | "unsure"}`; "clean" only when `tools`
 * names the module the gateway serves now and the program type-checks against it with no
 * error (see `WarmChecker`). JSON only, so a cross-site form or simple fetch cannot start a check.
 */
export const CHECK_PATH = "/runtime/check";

/** Largest request body of {@link CHECK_PATH}, in bytes (1 MiB). */
export const MAX_CHECK_BODY_BYTES = 1024 * 1024;

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
 * tools as {@link TOOL_CATALOG_PATH} says; `POST /runtime/check` checks a program as
 * {@link CHECK_PATH} says.
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
): Record<string, RouteHandler | MethodRoutes> {
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
    const contentType = request.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      await request.body?.cancel();
      return text(415, `${CHECK_PATH} takes Content-Type: application/json\n`);
    }
    const body = await readRequestBody(request, MAX_CHECK_BODY_BYTES);
    if (body.tooLarge) return text(413, `${requestBodyTooLargeMessage(MAX_CHECK_BODY_BYTES)}\n`);
    let fields: unknown;
    try {
      fields = JSON.parse(body.text);
    } catch {
      return text(400, `${CHECK_PATH} takes a JSON body\n`);
    }
    if (
      !isRecord(fields) || typeof fields.tools !== "string" || typeof fields.program !== "string"
    ) {
      return text(400, `${CHECK_PATH} takes {"tools": "<sha256 hex>", "program": "<source>"}\n`);
    }
    const source = moduleFor(undefined)!;
    let verdict: "clean" | "unsure" = "unsure";
    if (fields.tools === await toolsModuleHash(source)) {
      const checker = options.checker ?? await gatewayChecker(gateway, env);
      verdict = await checker.check(fields.program, source);
    }
    return new Response(JSON.stringify({ verdict }), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }

  return {
    [TOOLS_MODULE_PATH]: serveToolsModule,
    [TOOL_CATALOG_PATH]: serveCatalog,
    [CHECK_PATH]: { POST: serveCheck },
  };
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
