/**
 * Serves a {@link Gateway} as MCP over this process's stdin/stdout (`gateway --stdio`), for
 * clients that spawn their MCP servers. Logs stay on stderr.
 */
import type { Gateway } from "./gateway.ts";
import { ClientSession } from "./client_session.ts";
import { StdioSessionTransport } from "./stdio_session_transport.ts";

/** Serves until stdin closes or `signal` aborts; resolves when the session has ended. */
export async function serveGatewayStdio(gateway: Gateway, signal?: AbortSignal): Promise<void> {
  const session = new ClientSession(gateway, new StdioSessionTransport());
  const closed = new Promise<void>((resolve) => session.onClose(resolve));
  const stop = () => void session.close();
  signal?.addEventListener("abort", stop, { once: true });
  await session.start();
  await closed;
  signal?.removeEventListener("abort", stop);
}
