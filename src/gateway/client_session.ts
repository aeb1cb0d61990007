/**
 * Our side of MCP for one client connection (an HTTP session or the stdio peer), routing
 * JSON-RPC messages between that client and the gateway's upstreams: the client's requests go
 * to {@link ClientRequests} (which answers them itself or sends them to the upstream their
 * name, URI or reference belongs to), and everything an upstream sends for a request comes
 * back on it (progress, log messages, sampling, elicitation and roots requests). The SDK's
 * transports move the bytes; no SDK `Server` sits in between, so a message is neither
 * re-validated nor rebuilt on its way through.
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "./gateway.ts";
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
import type { ClientPeer, PeerAnswer } from "./session_hub.ts";
import { ClientRequests } from "./client_requests.ts";

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
  lastActiveAt: number = Date.now();
  /** Requests the client sent besides `initialize` (a never-used session has 0). */
  requestCount = 0;
  readonly #gateway: Gateway;
  readonly #requests: ClientRequests;
  readonly #transport: Transport & Abandoning;
  /** Client requests being served, by the client's id. */
  #inFlight = new Map<RequestId, AbortController>();
  /** Our requests to the client, by our id. */
  #outgoing = new Map<string, Outgoing>();
  #next = 0;
  #initialized = false;
  #unsubscribe?: () => void;
  #onClose = new Set<() => void>();

  /** The gateway caller this session authenticated as (`gateway.callers`); undefined: the gateway's own. */
  readonly caller: string | undefined;

  /**
   * Takes over `transport`'s callbacks; nothing moves until {@link ClientSession.start}.
   * `options.caller`: whose OAuth credentials this session's tool calls use.
   */
  constructor(gateway: Gateway, transport: Transport, options: { caller?: string } = {}) {
    this.caller = options.caller;
    this.#gateway = gateway;
    this.#requests = new ClientRequests(gateway, this);
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

  /** Same as {@link ClientSession.close}, for `await using`. */
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
      const result = await this.#requests.handle(request, controller.signal);
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
