/**
 * Serves a {@link Gateway} as MCP over this process's stdin/stdout (`gateway --stdio`), for
 * clients that spawn their MCP servers. Logs stay on stderr.
 */
import process from "node:process";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Gateway } from "./gateway.ts";
import { createGatewayMcpServer } from "./gateway_mcp_server.ts";

/** Serves until stdin closes or `signal` aborts; resolves when the session has ended. */
export async function serveGatewayStdio(gateway: Gateway, signal?: AbortSignal): Promise<void> {
  const server = createGatewayMcpServer(gateway);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
    signal?.addEventListener("abort", () => server.close(), { once: true });
  });
  await server.connect(transport);
  // The SDK's stdio transport does not notice stdin closing; a peer hanging up ends the session.
  process.stdin.once("end", () => server.close());
  await closed;
}
