/**
 * Turns what the SDK throws while connecting to or calling an upstream into the error a user
 * should see: which server, what went wrong (HTTP status, rejected credentials, the child's
 * last stderr lines), and the command that fixes it.
 */
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { ServerConfig } from "../config/types.ts";
import { tokenOverrideVariable } from "../config/validate_config.ts";
import type { CredentialStatus } from "../auth/types.ts";
import { AuthError, NotAuthenticatedError, ToolscriptError, UpstreamError } from "../errors.ts";
import type { UpstreamTransport } from "./upstream_transport.ts";

/** The first {@link ToolscriptError} in an error's `cause` chain. */
export function findToolscriptError(error: unknown): ToolscriptError | undefined {
  for (let e = error, depth = 0; e && depth < 6; depth++) {
    if (e instanceof ToolscriptError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when an HTTP upstream forgot our session (404), so a new session may be opened. */
export function isSessionLost(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code === 404;
}

/** Options of {@link explainConnectFailure}. */
export interface ExplainOptions {
  transport: UpstreamTransport;
  credentials?: CredentialStatus;
}

/** Explains why connecting to `server` failed. */
export function explainConnectFailure(
  server: ServerConfig,
  error: unknown,
  options: ExplainOptions,
): ToolscriptError {
  const known = findToolscriptError(error);
  if (known) return known;
  const { status, wwwAuthenticate } = options.transport.lastResponse;
  const credentials = options.credentials;
  if (status === 401 && (!credentials || credentials.authType === "none")) {
    return new NotAuthenticatedError(server.name, {
      reason: "the server requires authentication",
    });
  }
  if (status === 401 || status === 403) {
    const challenge = /error="([^"]+)"/.exec(wwwAuthenticate ?? "");
    const source = server.type !== "stdio" && server.tokenOverride
      ? `the bearer token from ${overrideVariable(server.name)}`
      : `the configured credentials`;
    const fix = server.type !== "stdio" && server.tokenOverride
      ? `check or unset ${overrideVariable(server.name)}`
      : `check the server's "auth" settings`;
    return new AuthError(
      `Server "${server.name}" rejected ${source} (HTTP ${status}` +
        `${challenge ? `, ${challenge[1]}` : ""}); ${fix}`,
      { server: server.name, cause: error },
    );
  }
  const described = describeCallError(server.name, error, options.transport.stderrTail());
  if (described instanceof ToolscriptError) return described;
  // An upstream that answers initialize with a JSON-RPC error is still a failed connect.
  return new UpstreamError(server.name, (described as Error).message, { cause: error });
}

function overrideVariable(server: string): string {
  return server === "default"
    ? "MCP_AUTH_TOKEN (or TOOLSCRIPT_TOKEN_DEFAULT)"
    : tokenOverrideVariable(server);
}

/**
 * Describes a failed request. JSON-RPC errors from the upstream itself pass through unchanged
 * (the caller rethrows them); everything else becomes an {@link UpstreamError}.
 */
export function describeCallError(
  server: string,
  error: unknown,
  stderrTail = "",
  lastFailure?: unknown,
): unknown {
  const known = findToolscriptError(error);
  if (known) return known;
  if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
    // The connection's own failure (set when it closed) says more than "Connection closed".
    if (lastFailure instanceof ToolscriptError) return lastFailure;
  } else if (error instanceof McpError && error.code !== ErrorCode.RequestTimeout) {
    return error;
  }
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
    message = `HTTP ${error.code}: ${message}`;
  }
  const tail = stderrTail ? ` (stderr: ${stderrTail})` : "";
  return new UpstreamError(server, `${message}${tail}`, { cause: error });
}
