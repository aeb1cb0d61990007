/**
 * The streamable HTTP client transport for both eras of MCP. Before the SDK client's `initialize`
 * goes out, it asks the server `server/discover` on the 2026-07-28 wire. A server that supports
 * that revision is then spoken to statelessly: the SDK's `initialize` is answered here from the
 * discover result, `notifications/initialized` is dropped, and every request carries the
 * `MCP-Protocol-Version` header, the protocol version and client capabilities in `_meta`, and
 * the SEP-2243 headers (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`). Any other answer (an older
 * server's 400, a JSON-RPC error, no 2026-07-28 among the supported versions) sends the
 * `initialize` on as before, and the connection is the older, session-based wire unchanged.
 * A 401 or 403 to the discover request fails the connect as the `initialize` would have.
 *
 * On either wire, every request after `initialize` is POSTed here rather than by the SDK's
 * transport, and the messages of its response (a JSON body or an SSE stream, read without a
 * second schema validation) reach `onmessage` with `relatedRequestId` set to that request's id:
 * a server sends a call's progress and its sampling or elicitation requests on the stream of
 * that call's POST, and this is how the gateway tells which client session they belong to.
 */
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import {
  fetchWithinOrigin,
  type Transport,
  type TransportSendOptions,
} from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type InitializeRequest,
  isInitializeRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../log.ts";
import type { RelatedExtra } from "./upstream_link.ts";
import { isRequest, isResponse, type RpcRequest } from "./jsonrpc.ts";
import { isRecord } from "../config/is_record.ts";
import { mcpRequestHeaders, type ParamHeader, readParamHeaders } from "./mcp_request_headers.ts";
import { abortableDelay } from "../abort.ts";
import { byteChunks } from "./byte_pipes.ts";
import { hasWholeBody } from "./http1_pool.ts";
import { type SseEvent, SseParser } from "./sse_parser.ts";

/** The stateless revision this transport speaks when the server supports it. */
export const STATELESS_PROTOCOL_VERSION = "2026-07-28";

/** Options of {@link StatelessHttpTransport}. */
export interface StatelessHttpTransportOptions {
  /** Carries the server's headers and credentials (see `createAuthFetch`). */
  fetch: typeof fetch;
  logger: Logger;
  /** The server's name in config, for log lines. */
  server: string;
  /** Called once the transport is closed: lets go of what `fetch` holds (its connections). */
  onClosed?: () => void;
}

/** Which wire a connection speaks, once the first `initialize` has been sent. */
export type HttpWire = "stateless" | "session";

const META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
const META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
const META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
const META_SERVER_INFO = "io.modelcontextprotocol/serverInfo";
const DISCOVER_ID = "toolscript-server-discover";

type Json = Record<string, unknown>;

/** A {@link Transport} that speaks MCP 2026-07-28 to servers that can, the older wire to others. */
export class StatelessHttpTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  #url: URL;
  #options: StatelessHttpTransportOptions;
  #inner: StreamableHTTPClientTransport;
  #probe?: StreamableHTTPClientTransport;
  #wire?: HttpWire;
  #meta: Json = {};
  #toolLists = new Set<RequestId>();
  #paramHeaders = new Map<string, ParamHeader[]>();
  #closed = false;
  /** Our own POSTs still being read, by request id (abandon() or close() aborts them). */
  #posts = new Map<RequestId, AbortController>();
  #postFetch: (url: string | URL, init?: RequestInit) => Promise<Response>;

  constructor(url: URL, options: StatelessHttpTransportOptions) {
    this.#url = url;
    this.#options = options;
    this.#postFetch = fetchWithinOrigin(options.fetch);
    this.#inner = new StreamableHTTPClientTransport(url, {
      fetch: (input, init) => this.#fetch(input, init, this.#wire === "stateless"),
    });
    this.#inner.onmessage = (message: JSONRPCMessage) => this.#receive(message);
    this.#inner.onerror = (error) => this.onerror?.(error);
    this.#inner.onclose = () => this.onclose?.();
  }

  /** The wire in use; undefined until the server has answered the discover request. */
  get wire(): HttpWire | undefined {
    return this.#wire;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const controller of this.#posts.values()) controller.abort();
    this.#posts.clear();
    try {
      await this.#probe?.close();
      await this.#inner.close();
    } finally {
      this.#options.onClosed?.();
    }
  }

  /** Set by the SDK after `initialize`; the stateless wire always sends its own version. */
  setProtocolVersion(version: string): void {
    if (this.#wire !== "stateless") this.#inner.setProtocolVersion(version);
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#wire === undefined && isInitializeRequest(message)) {
      return await this.#initialize(message, options);
    }
    if (this.#wire !== "stateless") {
      if (this.#wire && isRequest(message) && !options?.resumptionToken) {
        if (message.method === "tools/list") this.#toolLists.add(message.id);
        return await this.#post(message);
      }
      return await this.#inner.send(message, options);
    }
    // The stateless wire has no handshake, and a client sends no responses on it.
    if (!("method" in message) || message.method === "notifications/initialized") return;
    if (isRequest(message)) {
      if (message.method === "tools/list") this.#toolLists.add(message.id);
      const params: Json = message.params ?? {};
      return await this.#post({
        ...message,
        params: { ...params, _meta: { ...params._meta as Json, ...this.#meta } },
      });
    }
    await this.#inner.send(message, options);
  }

  /** Stops reading the response of our request `id` (it was cancelled or timed out). */
  abandon(id: RequestId): void {
    this.#posts.get(id)?.abort();
    this.#posts.delete(id);
  }

  /** POSTs one request and delivers what its response carries, related to it. */
  async #post(message: RpcRequest): Promise<void> {
    const stateless = this.#wire === "stateless";
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    };
    if (stateless) {
      headers["mcp-protocol-version"] = STATELESS_PROTOCOL_VERSION;
      Object.assign(headers, mcpRequestHeaders(message, (tool) => this.#paramHeaders.get(tool)));
    } else {
      const sessionId = this.#inner.sessionId;
      if (sessionId) headers["mcp-session-id"] = sessionId;
      const version = this.#inner.protocolVersion;
      if (version) headers["mcp-protocol-version"] = version;
    }
    const controller = new AbortController();
    this.#posts.set(message.id, controller);
    let reading = false;
    try {
      const response = await this.#postFetch(this.#url, {
        method: "POST",
        headers,
        body: JSON.stringify(message),
        signal: controller.signal,
      });
      if (!response.ok) return await this.#refused(response, message.id, stateless);
      const type = response.headers.get("content-type") ?? "";
      if (response.status === 202 || !response.body) {
        await response.body?.cancel();
      } else if (/^text\/event-stream/i.test(type)) {
        reading = true;
        // A body the pool already read whole is parsed as it is, without a stream over it.
        const chunks = hasWholeBody(response)
          ? [await response.bytes()]
          : byteChunks(response.body);
        this.#readStream(chunks, message.id, controller).finally(() => {
          if (this.#posts.get(message.id) === controller) this.#posts.delete(message.id);
        });
      } else if (/^application\/json/i.test(type)) {
        const data = await response.json();
        for (const item of Array.isArray(data) ? data : [data]) this.#deliver(item, message.id);
      } else {
        await response.body.cancel();
        throw new StreamableHTTPError(-1, `Unexpected content type: ${type}`);
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      this.onerror?.(error as Error);
      throw error;
    } finally {
      if (!reading && this.#posts.get(message.id) === controller) this.#posts.delete(message.id);
    }
  }

  /**
   * A 4xx/5xx: an HTTP error the SDK's way (`StreamableHTTPError`, so a lost session's 404 is
   * recognised), except that on the stateless wire a body carrying a JSON-RPC error for the
   * request is that error (credential failures, 401 and 403, stay HTTP errors).
   */
  async #refused(response: Response, id: RequestId, stateless: boolean): Promise<void> {
    const text = await response.text().catch(() => "");
    if (stateless && response.status !== 401 && response.status !== 403) {
      const body = parseJson(text);
      if (isRecord(body) && isRecord(body.error)) {
        return this.#deliver({ jsonrpc: "2.0", id, error: body.error }, id);
      }
    }
    throw new StreamableHTTPError(response.status, `Error POSTing to endpoint: ${text}`);
  }

  /** Reads the chunks of an SSE response to request `id`, delivering each message related to it. */
  async #readStream(
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    id: RequestId,
    controller: AbortController,
  ): Promise<void> {
    const decoder = new TextDecoder();
    const parser = new SseParser();
    let answered = false;
    let lastEventId: string | undefined;
    /** The server's `retry` field: how long to wait before resuming (SSE), default 1 s. */
    let retryMs = DEFAULT_SSE_RETRY_MS;
    const onEvent = (event: SseEvent) => {
      if (event.id !== undefined) lastEventId = event.id;
      if (event.retry !== undefined) retryMs = event.retry;
      if (!event.data || (event.event !== undefined && event.event !== "message")) return;
      const message = parseJson(event.data);
      if (isResponse(message) && message.id === id) answered = true;
      this.#deliver(message, id);
    };
    try {
      for await (const value of chunks) {
        for (const event of parser.push(decoder.decode(value, { stream: true }))) onEvent(event);
      }
    } catch (error) {
      if (controller.signal.aborted || this.#closed) return;
      this.onerror?.(new Error(`SSE stream disconnected: ${error}`));
    }
    if (answered || controller.signal.aborted || this.#closed) return;
    if (lastEventId !== undefined) {
      // A resumable stream the server closed early: the rest comes on a GET with Last-Event-ID,
      // after the wait the server asked for.
      const waited = await abortableDelay(retryMs, controller.signal).then(() => true, () => false);
      if (!waited || this.#closed) return;
      return await this.#inner.resumeStream(lastEventId).catch((error) => this.onerror?.(error));
    }
    // Ended unanswered and not resumable: as with the SDK's transport, the request's own timeout
    // ends the wait (the connection itself is fine).
    this.onerror?.(new Error(`The response stream of request ${String(id)} ended unanswered`));
  }

  #deliver(message: unknown, related: RequestId): void {
    if (!isRecord(message) || message.jsonrpc !== "2.0") {
      this.onerror?.(new Error("Not a JSON-RPC message in the response"));
      return;
    }
    this.#receive(message as JSONRPCMessage, { relatedRequestId: related });
  }

  async #initialize(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const { id, params: raw } = message as JSONRPCRequest;
    const params = raw as InitializeRequest["params"];
    this.#meta = {
      [META_PROTOCOL_VERSION]: STATELESS_PROTOCOL_VERSION,
      [META_CLIENT_CAPABILITIES]: params.capabilities ?? {},
      [META_CLIENT_INFO]: params.clientInfo,
    };
    const discovered = await this.#discover();
    if (this.#closed) return;
    if (!discovered) {
      this.#wire = "session";
      return await this.#inner.send(message, options);
    }
    this.#wire = "stateless";
    this.#options.logger.debug(`server "${this.#options.server}" speaks MCP 2026-07-28`);
    const meta = isRecord(discovered._meta) ? discovered._meta : {};
    const serverInfo = [discovered.serverInfo, meta[META_SERVER_INFO]].find(isImplementation);
    this.onmessage?.({
      jsonrpc: "2.0",
      id,
      result: {
        // A version the SDK client knows; what goes on the wire is decided here.
        protocolVersion: params.protocolVersion,
        capabilities: isRecord(discovered.capabilities) ? discovered.capabilities : {},
        serverInfo: serverInfo ?? { name: this.#options.server, version: "unknown" },
        ...(typeof discovered.instructions === "string"
          ? { instructions: discovered.instructions }
          : {}),
      },
    });
  }

  /** The discover result when the server speaks 2026-07-28; undefined for any other answer. */
  async #discover(): Promise<Json | undefined> {
    let streaming = false;
    const probe = new StreamableHTTPClientTransport(this.#url, {
      fetch: async (input, init) => {
        const response = await this.#fetch(input, init, true);
        streaming = /text\/event-stream/i.test(response.headers.get("content-type") ?? "");
        return response;
      },
    });
    this.#probe = probe;
    const reply = Promise.withResolvers<JSONRPCMessage | undefined>();
    probe.onmessage = (message) => {
      if ("id" in message && message.id === DISCOVER_ID) reply.resolve(message);
    };
    probe.onclose = () => reply.resolve(undefined);
    try {
      await probe.start();
      await probe.send({
        jsonrpc: "2.0",
        id: DISCOVER_ID,
        method: "server/discover",
        params: { _meta: this.#meta },
      });
      // A JSON answer has been delivered by now; an SSE one arrives on the stream.
      if (!streaming) reply.resolve(undefined);
      const answer = await reply.promise;
      const result = answer && "result" in answer ? answer.result as Json : undefined;
      const versions = result?.supportedVersions;
      return Array.isArray(versions) && versions.includes(STATELESS_PROTOCOL_VERSION)
        ? result
        : undefined;
    } catch (error) {
      // A credential problem fails the connect as the initialize would; any other failure
      // (an older server's 400 or 404, an unreadable answer) is left to the initialize.
      const denied = error instanceof StreamableHTTPError &&
        (error.code === 401 || error.code === 403);
      if (denied || this.#closed) throw error;
      return undefined;
    } finally {
      this.#probe = undefined;
      await probe.close();
    }
  }

  /** Leaves out tools the 2026-07-28 rules reject and remembers the rest's `x-mcp-header`s. */
  #receive(message: JSONRPCMessage, extra?: RelatedExtra): void {
    const id = "method" in message ? undefined : message.id;
    if (id !== undefined && this.#toolLists.delete(id)) {
      if ("result" in message && Array.isArray(message.result.tools)) {
        const tools = message.result.tools.filter((tool: Json) => this.#acceptTool(tool));
        message = { ...message, result: { ...message.result, tools } };
      }
    }
    this.onmessage?.(message, extra);
  }

  #acceptTool(tool: Json): boolean {
    const scan = readParamHeaders(tool.inputSchema);
    if ("invalid" in scan) {
      this.#options.logger.warn(`server "${this.#options.server}" tool left out`, {
        tool: String(tool.name),
        reason: scan.invalid,
      });
      return false;
    }
    if (typeof tool.name === "string") this.#paramHeaders.set(tool.name, scan.headers);
    return true;
  }

  /**
   * On the stateless wire: adds the version and SEP-2243 headers, drops any session id, and
   * turns a 4xx/5xx that carries a JSON-RPC error for a request into that error, so a caller
   * sees the server's answer (credential failures, 401 and 403, stay HTTP errors).
   */
  async #fetch(input: string | URL, init: RequestInit | undefined, stateless: boolean) {
    if (!stateless || typeof init?.body !== "string") return await this.#options.fetch(input, init);
    const message = parseJson(init.body);
    const headers = new Headers(init.headers);
    headers.set("MCP-Protocol-Version", STATELESS_PROTOCOL_VERSION);
    headers.delete("Mcp-Session-Id");
    const extra = mcpRequestHeaders(message, (tool) => this.#paramHeaders.get(tool));
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    const response = await this.#options.fetch(input, { ...init, headers });
    const id = isRecord(message) ? message.id : undefined;
    if (response.ok || response.status === 401 || response.status === 403 || id === undefined) {
      return response;
    }
    const text = await response.text();
    const body = parseJson(text);
    if (!isRecord(body) || !isRecord(body.error)) {
      return new Response(text, { status: response.status, headers: response.headers });
    }
    return Response.json({ jsonrpc: "2.0", id, error: body.error });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isImplementation(value: unknown): value is { name: string; version: string } {
  return isRecord(value) && typeof value.name === "string" && typeof value.version === "string";
}

/** The SSE reconnection time when the server sets none (as the SDK's client waits). */
const DEFAULT_SSE_RETRY_MS = 1000;
