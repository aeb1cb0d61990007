/**
 * Builds the client transport for one configured server: a child process for `stdio` (our
 * {@link StdioChildTransport}), streamable HTTP for `http` (the stateless MCP 2026-07-28 wire
 * when the server speaks it, else the session-based one; see {@link StatelessHttpTransport}),
 * legacy SSE for `sse`. HTTP
 * transports get a fetch that carries the server's headers and credentials and records the last
 * HTTP status, so a failed connect can tell "needs login" from "down"; streamable HTTP to a
 * plain-`http:` server runs over an {@link Http1Pool} of keep-alive connections.
 */
// @ts-types="@modelcontextprotocol/sdk/client/sse"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { ServerConfig } from "../config/types.ts";
import { createAuthFetch } from "../auth/lifecycle/auth_fetch.ts";
import type { CredentialProvider } from "../auth/types.ts";
import type { Logger } from "../log.ts";
import { StatelessHttpTransport } from "./stateless_http_transport.ts";
import { StdioChildTransport } from "./stdio_child_transport.ts";
import { Http1Pool } from "./http1_pool.ts";

/** What {@link createUpstreamTransport} returns: the transport and what it observed. */
export interface UpstreamTransport {
  transport: Transport;
  /** The last HTTP response status and `WWW-Authenticate` header seen (HTTP transports). */
  lastResponse: { status?: number; wwwAuthenticate?: string };
  /** The last lines the child wrote to stderr (stdio), for error messages. */
  stderrTail: () => string;
}

/** Options of {@link createUpstreamTransport}. */
export interface UpstreamTransportOptions {
  logger: Logger;
  credentials?: CredentialProvider;
  fetch?: typeof fetch;
}

const STDERR_TAIL_LINES = 5;

/** Creates (but does not start) the transport for `server`. */
export function createUpstreamTransport(
  server: ServerConfig,
  options: UpstreamTransportOptions,
): UpstreamTransport {
  const lastResponse: UpstreamTransport["lastResponse"] = {};
  if (server.type === "stdio") {
    const tail: string[] = [];
    const transport = new StdioChildTransport({
      command: server.command,
      args: server.args,
      env: server.env,
      cwd: server.cwd,
      onStderrLine: (line) => {
        options.logger.debug(`server "${server.name}" stderr: ${line}`);
        tail.push(line);
        if (tail.length > STDERR_TAIL_LINES) tail.shift();
      },
    });
    return { transport, lastResponse, stderrTail: () => tail.join("\n") };
  }
  // Streamable HTTP to a plain-http server goes over our own keep-alive connections when the
  // fetch is the platform's (a fetch passed in, e.g. a test's recorder, sees every request).
  const platformFetch = !options.fetch || options.fetch === globalThis.fetch;
  const pool = server.type === "http" && platformFetch
    ? new Http1Pool({ fallback: options.fetch ?? globalThis.fetch })
    : undefined;
  // One wrapper per request: credentials, configured headers, and the last status recorded.
  const recordingFetch = createAuthFetch({
    credentials: options.credentials,
    headers: server.headers,
    fetch: pool?.fetch ?? options.fetch,
    onResponse: (response) => {
      lastResponse.status = response.status;
      lastResponse.wwwAuthenticate = response.status === 401 || response.status === 403
        ? response.headers.get("www-authenticate") ?? undefined
        : undefined;
    },
  });
  const url = new URL(server.url);
  const transport = server.type === "sse"
    ? new SSEClientTransport(url, { fetch: recordingFetch })
    : new StatelessHttpTransport(url, {
      fetch: recordingFetch,
      logger: options.logger,
      server: server.name,
      onClosed: () => pool?.close(),
    });
  return { transport, lastResponse, stderrTail: () => "" };
}
