/**
 * Our side of MCP for one client connection (an HTTP session or the stdio peer), routing
 * JSON-RPC messages between that client and the gateway's upstreams. It answers `initialize`,
 * `ping` and the merged lists itself, sends every other request to the upstream its name,
 * URI or reference belongs to, and carries back everything the upstream sends for that
 * request (progress, log messages, sampling, elicitation and roots requests). The SDK's
 * transports move the bytes; no SDK `Server` sits in between, so a message is neither
 * re-validated nor rebuilt on its way through.
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  LATEST_PROTOCOL_VERSION,
  McpError,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "./gateway.ts";
import type { Upstream } from "./upstream.ts";
import {
  errorResponse,
  isNotification,
  isRequest,
  isResponse,
  type Json,
  type JSONRPCMessage,
  paramsOf,
  type RequestId,
  RpcCode,
  type RpcRequest,
} from "./jsonrpc.ts";
import type { ClientPeer, InboundCall, PeerAnswer } from "./session_hub.ts";

/** Our name and version as MCP clients see them. */
export const GATEWAY_INFO = { name: "toolscript", version: "0.1.0" };

/** A transport that can end the response of a request it will never answer (HTTP). */
interface Abandoning {
  abandon?(id: RequestId): void;
}

interface Outgoing {
  resolve(answer: PeerAnswer): void;
}

/** One client connection; see the module comment. */
export class ClientSession implements ClientPeer, AsyncDisposable {
  capabilities: Json = {};
  logLevel?: string;
  closed = false;
  /** Epoch ms of the last message from the client. */
  lastActiveAt = Date.now();
  /** Requests the client sent besides `initialize` (a never-used session has 0). */
  requestCount = 0;
  readonly #gateway: Gateway;
  readonly #transport: Transport & Abandoning;
  /** Client requests being served, by the client's id. */
  #inFlight = new Map<RequestId, AbortController>();
  /** Our requests to the client, by our id. */
  #outgoing = new Map<string, Outgoing>();
  #next = 0;
  #initialized = false;
  #unsubscribe?: () => void;
  #onClose = new Set<() => void>();

  constructor(gateway: Gateway, transport: Transport) {
    this.#gateway = gateway;
    this.#transport = transport;
    transport.onmessage = (message) => this.#receive(message);
    transport.onclose = () => this.#ended();
    transport.onerror = (error) =>
      gateway.logger.debug("client transport error", { error: error.message });
  }

  /** True while a request from the client or to it is outstanding (never evicted then). */
  get busy(): boolean {
    return this.#inFlight.size > 0 || this.#outgoing.size > 0;
  }

  /** Starts the transport and joins the gateway's hub. */
  async start(): Promise<void> {
    this.#gateway.hub.add(this);
    this.#unsubscribe = this.#gateway.onChange((changed) => {
      for (const kind of changed) this.notify(`notifications/${kind}/list_changed`, {});
    });
    await this.#transport.start();
  }

  /** Calls `listener` once the session has ended. */
  onClose(listener: () => void): void {
    this.#onClose.add(listener);
  }

  /** Ends the session: in-flight requests are cancelled upstream. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.#transport.close().catch(() => {});
    this.#ended();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.#unsubscribe?.();
    for (const controller of this.#inFlight.values()) {
      controller.abort(new McpError(RpcCode.ConnectionClosed, "Client session ended"));
    }
    this.#inFlight.clear();
    for (const outgoing of this.#outgoing.values()) {
      outgoing.resolve({
        error: { code: RpcCode.ConnectionClosed, message: "The client session ended" },
      });
    }
    this.#outgoing.clear();
    for (const { server, uri } of this.#gateway.hub.remove(this)) {
      this.#gateway.upstreams.get(server)?.forward("resources/unsubscribe", { uri })
        .catch(() => {});
    }
    for (const listener of this.#onClose) listener();
  }

  notify(method: string, params: Json, related?: RequestId): void {
    // Unrelated notifications (list changes, logs) wait until the client said it is ready.
    if (this.closed || (!this.#initialized && related === undefined)) return;
    this.#transport.send(
      { jsonrpc: "2.0", method, params },
      related === undefined ? undefined : { relatedRequestId: related },
    ).catch(() => {}); // a client that went away cannot be told; not the gateway's failure
  }

  request(
    method: string,
    params: Json,
    related?: RequestId,
    signal?: AbortSignal,
  ): Promise<PeerAnswer> {
    if (this.closed) {
      return Promise.resolve({
        error: { code: RpcCode.ConnectionClosed, message: "The client session ended" },
      });
    }
    const id = `ts-${++this.#next}`;
    const { promise, resolve } = Promise.withResolvers<PeerAnswer>();
    this.#outgoing.set(id, { resolve });
    const onAbort = () => {
      if (!this.#outgoing.delete(id)) return;
      this.notify("notifications/cancelled", { requestId: id, reason: String(signal!.reason) });
      resolve({ error: { code: RpcCode.RequestTimeout, message: "Cancelled by the server" } });
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#transport.send(
      { jsonrpc: "2.0", id, method, params },
      related === undefined ? undefined : { relatedRequestId: related },
    ).catch((error) => {
      if (!this.#outgoing.delete(id)) return;
      resolve({
        error: {
          code: RpcCode.InternalError,
          message: `Cannot reach the client: ${error instanceof Error ? error.message : error}`,
        },
      });
    });
    return signal ? promise.finally(() => signal.removeEventListener("abort", onAbort)) : promise;
  }

  #receive(message: JSONRPCMessage): void {
    this.lastActiveAt = Date.now();
    if (isRequest(message)) {
      if (message.method !== "initialize") this.requestCount++;
      return void this.#serve(message);
    }
    if (isResponse(message)) {
      const outgoing = typeof message.id === "string" ? this.#outgoing.get(message.id) : undefined;
      if (!outgoing) return;
      this.#outgoing.delete(message.id as string);
      outgoing.resolve("result" in message ? { result: message.result } : { error: message.error });
      return;
    }
    if (!isNotification(message)) return;
    const params = paramsOf(message);
    switch (message.method) {
      case "notifications/initialized":
        this.#initialized = true;
        return;
      case "notifications/cancelled":
        this.#inFlight.get(params.requestId as RequestId)?.abort(params.reason ?? "cancelled");
        return;
      case "notifications/roots/list_changed":
        for (const upstream of this.#gateway.upstreams.values()) {
          if (upstream.state === "ok") upstream.notify(message.method, params).catch(() => {});
        }
        return;
    }
  }

  async #serve(request: RpcRequest): Promise<void> {
    const controller = new AbortController();
    this.#inFlight.set(request.id, controller);
    let reply: JSONRPCMessage | undefined;
    try {
      const result = await this.#handle(request, controller.signal);
      if (!controller.signal.aborted) reply = { jsonrpc: "2.0", id: request.id, result };
    } catch (error) {
      if (!controller.signal.aborted) reply = errorReplyFor(request.id, error);
    } finally {
      this.#inFlight.delete(request.id);
    }
    if (this.closed) return;
    if (!reply) return this.#transport.abandon?.(request.id);
    await this.#transport.send(reply).catch((error) =>
      this.#gateway.logger.debug("cannot answer client", { error: String(error) })
    );
  }

  async #handle(request: RpcRequest, signal: AbortSignal): Promise<Json> {
    const gateway = this.#gateway;
    const params = paramsOf(request);
    switch (request.method) {
      case "initialize":
        return this.#initialize(params);
      case "ping":
        return {};
      case "tools/list":
        return { tools: gateway.listTools() };
      case "prompts/list":
        return { prompts: gateway.listPrompts() };
      case "resources/list":
        return { resources: gateway.listResources() };
      case "resources/templates/list":
        return { resourceTemplates: gateway.listResourceTemplates() };
      case "tools/call": {
        this.#bind(request, params, signal);
        const args = params.arguments as Record<string, unknown> | undefined;
        return await gateway.callTool(String(params.name), args, signal) as unknown as Json;
      }
      case "prompts/get": {
        const target = gateway.resolve(String(params.name), "prompt");
        if (!target) throw invalidParams(`Unknown prompt "${params.name}"`);
        this.#bind(request, params, signal);
        return gateway.maskSecrets(
          await target.upstream.forward("prompts/get", {
            ...withoutMeta(params),
            name: target.name,
          }, signal),
        );
      }
      case "resources/read":
        return await this.#forwardByUri(request, params, signal);
      case "resources/subscribe":
      case "resources/unsubscribe":
        return await this.#subscription(request, params, signal);
      case "completion/complete":
        return await this.#complete(request, params, signal);
      case "logging/setLevel":
        return await this.#setLevel(params);
      default:
        throw new McpError(RpcCode.MethodNotFound, `Method not found: ${request.method}`);
    }
  }

  #initialize(params: Json): Json {
    this.capabilities = isObject(params.capabilities) ? params.capabilities : {};
    const asked = String(params.protocolVersion);
    const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(asked)
      ? asked
      : LATEST_PROTOCOL_VERSION;
    return { protocolVersion, capabilities: this.#serverCapabilities(), serverInfo: GATEWAY_INFO };
  }

  /** What the gateway offers: the list kinds always, the rest as some upstream offers it. */
  #serverCapabilities(): Json {
    let logging = false, completions = false, subscribe = false;
    for (const upstream of this.#gateway.upstreams.values()) {
      const caps = upstream.serverCapabilities;
      if (!caps) continue;
      logging ||= isObject(caps.logging);
      completions ||= isObject(caps.completions);
      subscribe ||= isObject(caps.resources) && caps.resources.subscribe === true;
    }
    return {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, ...(subscribe ? { subscribe: true } : {}) },
      ...(logging ? { logging: {} } : {}),
      ...(completions ? { completions: {} } : {}),
    };
  }

  /** Ties the upstream request this client request causes to this session. */
  #bind(request: RpcRequest, params: Json, signal: AbortSignal): void {
    const meta = isObject(params._meta) ? params._meta : undefined;
    const call: InboundCall = { peer: this, requestId: request.id };
    if (meta) {
      const { progressToken, ...rest } = meta;
      if (typeof progressToken === "string" || typeof progressToken === "number") {
        call.progressToken = progressToken;
      }
      if (Object.keys(rest).length > 0) call.meta = rest;
    }
    this.#gateway.hub.bindCall(signal, call);
  }

  /** Forwards a request about a resource to the upstream behind its URI, with its own URI. */
  async #forwardByUri(request: RpcRequest, params: Json, signal: AbortSignal): Promise<Json> {
    const target = this.#gateway.resolveResource(String(params.uri));
    if (!target) throw invalidParams(`Unknown resource "${params.uri}"`);
    this.#bind(request, params, signal);
    const answer = await target.upstream.forward(request.method, {
      ...withoutMeta(params),
      uri: target.uri,
    }, signal);
    return this.#gateway.maskSecrets(answer);
  }

  async #subscription(request: RpcRequest, params: Json, signal: AbortSignal): Promise<Json> {
    const exposed = String(params.uri);
    const target = this.#gateway.resolveResource(exposed);
    if (!target) throw invalidParams(`Unknown resource "${exposed}"`);
    const { upstream, uri } = target;
    const hub = this.#gateway.hub;
    if (request.method === "resources/subscribe") {
      if (!hub.subscribe(upstream.name, uri, this, exposed)) return {};
      try {
        return await this.#forwardByUri(request, params, signal);
      } catch (error) {
        hub.unsubscribe(upstream.name, uri, this);
        throw error;
      }
    }
    if (!hub.unsubscribe(upstream.name, uri, this)) return {};
    return await this.#forwardByUri(request, params, signal);
  }

  async #complete(request: RpcRequest, params: Json, signal: AbortSignal): Promise<Json> {
    const ref = isObject(params.ref) ? params.ref : {};
    let upstream: Upstream | undefined;
    let forwardedRef = ref;
    if (ref.type === "ref/prompt") {
      const target = this.#gateway.resolve(String(ref.name), "prompt");
      if (!target) throw invalidParams(`Unknown prompt "${ref.name}"`);
      upstream = target.upstream;
      forwardedRef = { ...ref, name: target.name };
    } else if (ref.type === "ref/resource") {
      const target = this.#gateway.resolveResource(String(ref.uri));
      if (!target) throw invalidParams(`Unknown resource template "${ref.uri}"`);
      upstream = target.upstream;
      forwardedRef = { ...ref, uri: target.uri };
    } else {
      throw invalidParams(`Unknown completion reference type "${ref.type}"`);
    }
    this.#bind(request, params, signal);
    return await upstream.forward("completion/complete", {
      ...withoutMeta(params),
      ref: forwardedRef,
    }, signal);
  }

  async #setLevel(params: Json): Promise<Json> {
    this.logLevel = String(params.level);
    const level = this.#gateway.hub.mostVerboseLevel() ?? this.logLevel;
    await Promise.all(
      [...this.#gateway.upstreams.values()].map((upstream) =>
        upstream.setLogLevel(level).catch((error) =>
          this.#gateway.logger.debug(`server "${upstream.name}" refused logging/setLevel`, {
            error: String(error),
          })
        )
      ),
    );
    return {};
  }
}

function withoutMeta(params: Json): Json {
  if (!("_meta" in params)) return params;
  const { _meta: _, ...rest } = params;
  return rest;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function invalidParams(message: string): McpError {
  return new McpError(RpcCode.InvalidParams, message);
}

/** The error answer for a failed request: an upstream's JSON-RPC error passes through as it was. */
function errorReplyFor(id: RequestId, error: unknown) {
  if (error instanceof McpError) {
    return errorResponse(
      id,
      error.code,
      error.message.replace(/^MCP error -?\d+: /, ""),
      error.data,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return errorResponse(id, RpcCode.InternalError, message);
}
