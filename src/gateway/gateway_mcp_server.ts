/**
 * Our side of MCP: an SDK `Server` that answers from a {@link Gateway}. One is created per
 * client connection (each HTTP session, or the one stdio peer); all share the gateway.
 */
// @ts-types="@modelcontextprotocol/sdk/server/index"
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolRequest,
  CallToolRequestSchema,
  ErrorCode,
  type GetPromptRequest,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  type ReadResourceRequest,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "./gateway.ts";

/** The part of the SDK's handler context we use. */
type Extra = { signal: AbortSignal };

/** Our name and version as MCP clients see them. */
export const GATEWAY_INFO = { name: "toolscript", version: "0.1.0" };

/**
 * Creates an MCP server bound to `gateway`. It sends `list_changed` notifications whenever
 * an upstream's offer changes, until it is closed.
 */
export function createGatewayMcpServer(gateway: Gateway): Server {
  const server = new Server(GATEWAY_INFO, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true },
    },
  });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: gateway.listTools() }));
  server.setRequestHandler(
    CallToolRequestSchema,
    (request: CallToolRequest, extra: Extra) =>
      gateway.callTool(request.params.name, request.params.arguments, extra.signal),
  );
  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: gateway.listPrompts() }));
  server.setRequestHandler(GetPromptRequestSchema, (request: GetPromptRequest, extra: Extra) => {
    const target = gateway.resolve(request.params.name);
    if (!target) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt "${request.params.name}"`);
    }
    return target.upstream.request((client) =>
      client.getPrompt({ ...request.params, name: target.name }, { signal: extra.signal })
    );
  });
  server.setRequestHandler(
    ListResourcesRequestSchema,
    () => ({ resources: gateway.listResources() }),
  );
  server.setRequestHandler(
    ListResourceTemplatesRequestSchema,
    () => ({ resourceTemplates: gateway.listResourceTemplates() }),
  );
  server.setRequestHandler(
    ReadResourceRequestSchema,
    (request: ReadResourceRequest, extra: Extra) => {
      const upstream = gateway.upstreamForResource(request.params.uri);
      if (!upstream) {
        throw new McpError(ErrorCode.InvalidParams, `Unknown resource "${request.params.uri}"`);
      }
      return upstream.request((client) =>
        client.readResource(request.params, { signal: extra.signal })
      );
    },
  );

  let connected = false;
  server.oninitialized = () => connected = true;
  const unsubscribe = gateway.onChange(() => {
    if (!connected) return;
    // A client that went away cannot be notified; that is not the gateway's failure.
    Promise.all([
      server.sendToolListChanged(),
      server.sendPromptListChanged(),
      server.sendResourceListChanged(),
    ]).catch(() => {});
  });
  server.onclose = () => unsubscribe();
  return server;
}
