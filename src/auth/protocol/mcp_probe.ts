/**
 * Private to src/auth: the unauthenticated probe that finds out whether an MCP server wants an
 * OAuth login and which scope it asks for. Some servers let `initialize` through and challenge
 * only the first real request, so after a 2xx the probe carries on as a client would
 * (`notifications/initialized`, then `tools/list` in the new session) and reads the first 401.
 * At most three requests, each bounded by the server's timeout.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import { extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import type { RemoteServerConfig } from "../../config/types.ts";
import { AuthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { describeFailure } from "./oauth_http.ts";
import { displayUrl } from "../../config/display_url.ts";

/** What an unauthenticated request to the server answered. */
export interface AuthChallenge {
  /** HTTP status of the probe. */
  status: number;
  /** True when the server sent a `Bearer` challenge. */
  bearer: boolean;
  /** RFC 9728 `resource_metadata` from the challenge. */
  resourceMetadataUrl?: URL;
  /** `scope` from the challenge. */
  scope?: string;
  /** `error` from the challenge (`invalid_token`, `insufficient_scope`, …). */
  error?: string;
}

/**
 * Reads the Bearer or DPoP challenge of a 401/403 response (nothing when there is none). A
 * DPoP challenge (RFC 9449 §7.1) carries the same `error` and `scope` parameters; `bearer`
 * stays false for it.
 */
export function readChallenge(response: Response): AuthChallenge {
  const header = response.headers.get("www-authenticate") ?? "";
  const bearer = /^\s*bearer\b/i.test(header);
  const dpop = !bearer && /^\s*dpop\b/i.test(header);
  // The SDK's parser reads Bearer challenges only: hand it the DPoP one under that name.
  const params = bearer
    ? extractWWWAuthenticateParams(response)
    : dpop
    ? extractWWWAuthenticateParams(
      new Response(null, {
        headers: { "www-authenticate": header.replace(/^\s*dpop\b/i, "Bearer") },
      }),
    )
    : {};
  return { status: response.status, bearer, ...params };
}

/** Options of {@link probeServer}. */
export interface ProbeOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  logger?: Logger;
  /** Time limit of each probe request, body included; default the server's `timeoutMs`. */
  timeoutMs?: number;
}

/** The protocol version the probe's `initialize` offers. */
const PROBE_PROTOCOL_VERSION = "2025-06-18";
/** How much of an SSE `initialize` response is read for the negotiated version. */
const MAX_SSE_CHARS = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: {
    protocolVersion: PROBE_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "toolscript-auth-probe", version: "1" },
  },
};
const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };
const TOOLS_LIST = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };

/**
 * Sends an unauthenticated MCP `initialize` POST (or, for an `sse` server, the SSE GET) with
 * the server's configured headers and reads the challenge. When the `initialize` is let
 * through (2xx), sends `notifications/initialized` and `tools/list` with the session's
 * `Mcp-Session-Id` and reads the challenge of the first 401; when none comes, the
 * `initialize`'s answer is returned. A follow-up that fails or times out ends the probe
 * without an error.
 * @throws {AuthError} (temporary) when the server cannot be reached or the first request
 *   times out.
 * @throws the signal's reason when `signal` aborts.
 */
export async function probeServer(
  server: RemoteServerConfig,
  options: ProbeOptions = {},
): Promise<AuthChallenge> {
  const headers = new Headers(server.headers);
  let first: Sent<string | undefined>;
  try {
    if (server.type === "sse") {
      headers.set("accept", "text/event-stream");
      first = await send(server, options, headers, undefined, skipBody);
    } else {
      headers.set("accept", "application/json, text/event-stream");
      headers.set("content-type", "application/json");
      first = await send(server, options, headers, INITIALIZE, readProtocolVersion);
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new AuthError(
      `Cannot reach server "${server.name}" at "${displayUrl(server.url)}": ${
        describeFailure(error)
      }`,
      { server: server.name, temporary: true, cause: error },
    );
  }
  let challenge = readChallenge(first.response);
  let requests = 1;
  if (server.type !== "sse" && first.response.ok) {
    const followed = await followUp(server, options, headers, first);
    requests += followed.requests;
    challenge = followed.challenge ?? challenge;
  }
  options.logger?.debug("Probed server for an OAuth challenge", {
    server: server.name,
    requests,
    status: challenge.status,
    bearer: challenge.bearer,
    resourceMetadataUrl: challenge.resourceMetadataUrl?.href,
    scope: challenge.scope,
  });
  return challenge;
}

interface Sent<T> {
  response: Response;
  value: T;
}

/** `notifications/initialized`, then `tools/list`; stops at the first answer that is not 2xx. */
async function followUp(
  server: RemoteServerConfig,
  options: ProbeOptions,
  baseHeaders: Headers,
  initialized: Sent<string | undefined>,
): Promise<{ challenge?: AuthChallenge; requests: number }> {
  let requests = 0;
  try {
    const headers = new Headers(baseHeaders);
    const sessionId = initialized.response.headers.get("mcp-session-id");
    if (sessionId) headers.set("mcp-session-id", sessionId);
    if (initialized.value) headers.set("mcp-protocol-version", initialized.value);
    for (const message of [INITIALIZED, TOOLS_LIST]) {
      requests++;
      const { response } = await send(server, options, headers, message, skipBody);
      if (response.ok) continue;
      const challenge = readChallenge(response);
      const refused = response.status === 401 || (response.status === 403 && challenge.bearer);
      return { challenge: refused ? challenge : undefined, requests };
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    options.logger?.debug("Probe stopped after the initialize", {
      server: server.name,
      error: describeFailure(error),
    });
  }
  return { requests };
}

/**
 * One request with its own timeout joined to the caller's signal; `read` runs under the same
 * limit and the body is cancelled afterwards. Rejects with the caller's abort reason unchanged.
 */
async function send<T>(
  server: RemoteServerConfig,
  options: ProbeOptions,
  headers: Headers,
  message: unknown,
  read: (response: Response) => Promise<T>,
): Promise<Sent<T>> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeout = AbortSignal.timeout(
    options.timeoutMs ?? (server.timeoutMs || DEFAULT_TIMEOUT_MS),
  );
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await fetchFn(server.url, {
      method: message === undefined ? "GET" : "POST",
      headers,
      ...(message === undefined ? {} : { body: JSON.stringify(message) }),
      signal,
    });
    try {
      return { response, value: await read(response) };
    } finally {
      await response.body?.cancel().catch(() => {});
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}

function skipBody(): Promise<undefined> {
  return Promise.resolve(undefined);
}

/** The `protocolVersion` of a successful `initialize` response (JSON or SSE), if readable. */
async function readProtocolVersion(response: Response): Promise<string | undefined> {
  if (!response.ok || !response.body) return undefined;
  const type = response.headers.get("content-type") ?? "";
  let message: unknown;
  try {
    if (type.includes("text/event-stream")) message = await firstSseResponse(response.body);
    else if (type.includes("application/json")) message = await response.json();
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  const version = (message as { result?: { protocolVersion?: unknown } } | undefined)?.result
    ?.protocolVersion;
  return typeof version === "string" && /^[\w.-]{1,32}$/.test(version) ? version : undefined;
}

/** The first SSE event whose data is the JSON-RPC response to the `initialize` (id 0). */
async function firstSseResponse(body: ReadableStream<Uint8Array>): Promise<unknown> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let raw = "";
  try {
    while (raw.length < MAX_SSE_CHARS) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      raw += value;
      // Whole events only (the last part may be cut); a CR LF split across chunks is whole
      // again at the next pass, as the text is normalised from the start each time.
      const events = raw.replace(/\r\n?/g, "\n").split("\n\n").slice(0, -1);
      for (const event of events) {
        const data = event.split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (!data) continue;
        try {
          const message = JSON.parse(data);
          if (message?.id === 0) return message;
        } catch {
          // not JSON: keep reading
        }
      }
    }
    return undefined;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
