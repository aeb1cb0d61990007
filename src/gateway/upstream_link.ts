/**
 * The JSON-RPC layer between the gateway and one upstream connection. The SDK `Client` connects
 * through it (initialize, catalog listing, list_changed), while the gateway's forwarded requests
 * bypass the `Client`: they go out as raw messages with ids of their own and their answers come
 * back unvalidated (the upstream's SDK built them, the client's SDK checks them). Progress
 * tokens are mapped both ways, cancellation is forwarded, and every server-to-client request or
 * notification is routed to the client session it belongs to through the {@link SessionHub}.
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type {
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { McpError, type MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";
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
  type RpcResponse,
} from "./jsonrpc.ts";
import type { InboundCall, SessionHub } from "./session_hub.ts";

/** What a transport may add to `onmessage`'s extra: the request whose stream carried it. */
export interface RelatedExtra extends MessageExtraInfo {
  /** The id of our request whose HTTP response stream delivered this message. */
  relatedRequestId?: RequestId;
}

/** A transport that can stop reading the response of one request (HTTP). */
interface Abandoning {
  abandon?(id: RequestId): void;
}

/** Options of {@link UpstreamLink.request}. */
export interface ForwardOptions {
  /** The client call this request serves (routes progress and server-to-client requests). */
  call?: InboundCall;
  /** Aborting sends `notifications/cancelled` upstream and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Rejects with `RequestTimeout` after this long without progress; 0 or undefined: never. */
  timeoutMs?: number;
}

interface Pending {
  id: string;
  resolve(result: Json): void;
  reject(error: unknown): void;
  call?: InboundCall;
  token?: string;
  timeoutMs: number;
  /** Monotonic ms by which the request times out; Infinity: no timeout, or paused. */
  deadline: number;
  /** Server-to-client requests of this call still waiting for the client (pause the timer). */
  asking: number;
}

/** Options of {@link UpstreamLink}. */
export interface UpstreamLinkOptions {
  /** The server's name in config (the `logger` of its log messages). */
  server: string;
  hub: SessionHub;
}

/** Wraps one upstream transport; see the module comment. */
export class UpstreamLink implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  readonly #inner: Transport & Abandoning;
  readonly #options: UpstreamLinkOptions;
  #next = 0;
  #pending = new Map<string, Pending>();
  #byToken = new Map<string, Pending>();
  /** Server-to-client requests forwarded to a client: upstream id → abort of the client's wait. */
  #asked = new Map<RequestId, AbortController>();
  #closed = false;
  /**
   * One timer for every pending request's timeout, due at the earliest deadline (or earlier: a
   * deadline that moved later is found when it fires, which re-arms it). A call that ends does
   * not touch it, so a stream of calls costs no timer each; unref'd, it never keeps the process
   * alive on its own (a pending request's I/O does).
   */
  #timer?: ReturnType<typeof setTimeout>;
  #timerAt = Infinity;

  constructor(inner: Transport, options: UpstreamLinkOptions) {
    this.#inner = inner;
    this.#options = options;
    inner.onmessage = (message, extra) => this.#receive(message, extra as RelatedExtra);
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => {
      this.#fail(new McpError(RpcCode.ConnectionClosed, "Connection closed"));
      this.onclose?.();
    };
  }

  /** The wrapped transport. */
  get inner(): Transport {
    return this.#inner;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message, options);
  }

  async close(): Promise<void> {
    this.#fail(new McpError(RpcCode.ConnectionClosed, "Connection closed"));
    await this.#inner.close();
  }

  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion?.(version);
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  /** The client calls with a request in flight on this connection. */
  *inFlight(): Iterable<InboundCall> {
    for (const pending of this.#pending.values()) if (pending.call) yield pending.call;
  }

  /**
   * Sends a request upstream and resolves with its `result` as it came. A JSON-RPC error
   * answer rejects with an `McpError` carrying its code, message and data; a closed
   * connection with `ConnectionClosed`, a timeout with `RequestTimeout`.
   */
  request(method: string, params: Json, options: ForwardOptions = {}): Promise<Json> {
    const { call, signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed) {
      return Promise.reject(new McpError(RpcCode.ConnectionClosed, "Connection closed"));
    }
    const id = `ts-${++this.#next}`;
    const { promise, resolve, reject } = Promise.withResolvers<Json>();
    const pending: Pending = {
      id,
      resolve,
      reject,
      call,
      timeoutMs: options.timeoutMs ?? 0,
      deadline: Infinity,
      asking: 0,
    };
    let meta = call?.meta;
    if (call?.progressToken !== undefined) {
      pending.token = id;
      this.#byToken.set(id, pending);
      meta = { ...meta, progressToken: id };
    }
    const message: RpcRequest = {
      jsonrpc: "2.0",
      id,
      method,
      params: meta ? { ...params, _meta: meta } : params,
    };
    this.#pending.set(id, pending);
    this.#arm(pending);
    const onAbort = () => {
      if (!this.#settle(pending)) return;
      this.#cancelUpstream(id, String(signal!.reason ?? "cancelled by the client"));
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#inner.send(message).catch((error) => {
      if (this.#settle(pending)) reject(error);
    });
    return signal ? promise.finally(() => signal.removeEventListener("abort", onAbort)) : promise;
  }

  /** Sends a notification upstream. */
  notify(method: string, params: Json): Promise<void> {
    return this.#inner.send({ jsonrpc: "2.0", method, params });
  }

  /** (Re)starts the timeout of `pending`: it runs while no server-to-client request waits. */
  #arm(pending: Pending): void {
    if (!pending.timeoutMs || pending.asking > 0) {
      pending.deadline = Infinity;
      return;
    }
    pending.deadline = performance.now() + pending.timeoutMs;
    this.#schedule(pending.deadline);
  }

  /** Pauses the timeout of `pending` (a server-to-client request of its call is out). */
  #pause(pending: Pending): void {
    pending.deadline = Infinity;
  }

  #schedule(deadline: number): void {
    if (this.#closed || deadline >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()));
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** Times out every request past its deadline and re-arms for the next one. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const pending of [...this.#pending.values()]) {
      if (pending.deadline > now) {
        next = Math.min(next, pending.deadline);
        continue;
      }
      if (!this.#settle(pending)) continue;
      this.#cancelUpstream(pending.id, "timed out");
      pending.reject(
        new McpError(RpcCode.RequestTimeout, "Request timed out", { timeout: pending.timeoutMs }),
      );
    }
    this.#schedule(next);
  }

  /** Forgets a pending request; false when it was settled already. */
  #settle(pending: Pending): boolean {
    if (!this.#pending.delete(pending.id)) return false;
    if (pending.token) this.#byToken.delete(pending.token);
    return true;
  }

  #cancelUpstream(id: string, reason: string): void {
    this.notify("notifications/cancelled", { requestId: id, reason }).catch(() => {});
    this.#inner.abandon?.(id);
  }

  #fail(error: McpError): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    for (const pending of [...this.#pending.values()]) {
      if (this.#settle(pending)) pending.reject(error);
    }
    for (const asked of this.#asked.values()) asked.abort();
    this.#asked.clear();
  }

  #receive(message: JSONRPCMessage, extra?: RelatedExtra): void {
    if (isResponse(message)) {
      const pending = typeof message.id === "string" ? this.#pending.get(message.id) : undefined;
      if (!pending) return this.onmessage?.(message, extra);
      this.#settle(pending);
      if ("result" in message) pending.resolve(message.result);
      else {
        const { code, message: text, data } = message.error;
        pending.reject(new McpError(code, text, data));
      }
      return;
    }
    const related = extra?.relatedRequestId;
    const call = related === undefined ? undefined : this.#pending.get(String(related))?.call;
    if (isRequest(message)) {
      if (message.method === "ping") return this.onmessage?.(message, extra);
      return void this.#ask(message, call);
    }
    if (!isNotification(message)) return this.onmessage?.(message, extra);
    const params = paramsOf(message);
    const hub = this.#options.hub;
    switch (message.method) {
      case "notifications/progress": {
        const pending = this.#byToken.get(String(params.progressToken));
        if (!pending?.call) return;
        this.#arm(pending);
        const { peer, requestId, progressToken } = pending.call;
        peer.notify(message.method, { ...params, progressToken }, requestId);
        return;
      }
      case "notifications/cancelled": {
        const requestId = params.requestId as RequestId;
        this.#asked.get(requestId)?.abort(params.reason);
        return;
      }
      case "notifications/message":
        return hub.log(this.#options.server, params, call);
      case "notifications/resources/updated":
        return hub.resourceUpdated(this.#options.server, params);
      case "notifications/tools/list_changed":
      case "notifications/prompts/list_changed":
      case "notifications/resources/list_changed":
        // The SDK client refreshes the catalog; the gateway then tells every client.
        return this.onmessage?.(message, extra);
      default:
        // Anything else that belongs to a call goes to its client, on that call's stream.
        if (call) call.peer.notify(message.method, params, call.requestId);
    }
  }

  /** Forwards a server-to-client request to the right client, and its answer back. */
  async #ask(request: RpcRequest, related: InboundCall | undefined): Promise<void> {
    const params = paramsOf(request);
    const pending = related
      ? [...this.#pending.values()].find((p) => p.call === related)
      : undefined;
    const peer = this.#options.hub.chooseClient(request.method, params, related, this.inFlight());
    let answer: RpcResponse;
    if (typeof peer === "string") {
      answer = errorResponse(
        request.id,
        RpcCode.MethodNotFound,
        `Cannot forward ${request.method}: ${peer}`,
      );
    } else {
      const abort = new AbortController();
      this.#asked.set(request.id, abort);
      if (pending) {
        pending.asking++;
        this.#pause(pending);
      }
      const call = related ?? [...this.inFlight()].find((c) => c.peer === peer);
      try {
        const reply = await peer.request(request.method, params, call?.requestId, abort.signal);
        answer = "result" in reply
          ? { jsonrpc: "2.0", id: request.id, result: reply.result }
          : { jsonrpc: "2.0", id: request.id, error: reply.error };
      } finally {
        this.#asked.delete(request.id);
        if (pending) {
          pending.asking--;
          if (this.#pending.has(pending.id)) this.#arm(pending);
        }
      }
      // The upstream cancelled its request: it expects no answer.
      if (abort.signal.aborted) return;
    }
    if (this.#closed) return;
    await this.#inner.send(answer).catch((error) => this.onerror?.(error));
  }
}
