/**
 * Serves a {@link Gateway} as MCP over this process's stdin/stdout (`gateway --stdio`), for
 * clients that spawn their MCP servers. Logs stay on stderr.
 */
import process from "node:process";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Gateway } from "./gateway.ts";
import { ClientSession } from "./client_session.ts";

/** Serves until stdin closes or `signal` aborts; resolves when the session has ended. */
export async function serveGatewayStdio(gateway: Gateway, signal?: AbortSignal): Promise<void> {
  const session = new ClientSession(gateway, new StdioServerTransport());
  const closed = new Promise<void>((resolve) => session.onClose(resolve));
  const stop = () => void session.close();
  signal?.addEventListener("abort", stop, { once: true });
  await session.start();
  // The SDK's stdio transport does not notice stdin closing; a peer hanging up ends the session.
  process.stdin.once("end", stop);
  await closed;
  signal?.removeEventListener("abort", stop);
}
