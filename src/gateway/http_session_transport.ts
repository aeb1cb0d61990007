/**
 * The server side of one streamable HTTP MCP session, answering each POST with the cheapest
 * body that can carry what goes out for it: a plain JSON body when the only message for the
 * request is its response (the common case, and about twice the calls/s of an SSE stream),
 * switching to an SSE stream only when a notification or a server-to-client request must go
 * out on that request's stream first (the Response is held until then). Messages that belong to
 * no request go on the session's GET stream. Header and body rules follow the SDK's
 * `WebStandardStreamableHTTPServerTransport`; incoming messages are checked for their JSON-RPC
 * shape only, not re-validated against the MCP schema (their handler checks what it uses).
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type {
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
// @ts-types="@modelcontextprotocol/sdk/server/requestBody"
import {
  MAX_BATCH_SIZE,
  readRequestBody,
  requestBodyTooLargeMessage,
} from "@modelcontextprotocol/sdk/server/requestBody.js";
import {
  isRequest,
  isResponse,
  type Json,
  type JSONRPCMessage,
  type RequestId,
  RpcCode,
} from "./jsonrpc.ts";

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;
const ENCODER = new TextEncoder();
const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/** A JSON-RPC error as an HTTP response (`id: null`). */
export function httpError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** One open SSE response body. */
class SseStream {
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #timer?: ReturnType<typeof setInterval>;
  closed = false;
  readonly body: ReadableStream<Uint8Array>;

  constructor(onCancel: () => void) {
    this.body = new ReadableStream({
      start: (controller) => void (this.#controller = controller),
      cancel: () => {
        this.#stop();
        onCancel();
      },
    });
    this.#timer = setInterval(() => this.#write(": keepalive\n\n"), KEEP_ALIVE_MS);
    Deno.unrefTimer(this.#timer);
  }

  send(message: JSONRPCMessage): void {
    this.#write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  #write(text: string): void {
    if (this.closed) return;
    try {
      this.#controller.enqueue(ENCODER.encode(text));
    } catch {
      this.#stop();
    }
  }

  #stop(): void {
    this.closed = true;
    clearInterval(this.#timer);
  }

  close(): void {
    if (this.closed) return;
    this.#stop();
    try {
      this.#controller.close();
    } catch { /* already closed */ }
  }
}

/** What goes out for the requests of one POST. */
class Exchange {
  readonly response: Promise<Response>;
  #resolve!: (response: Response) => void;
  #open: Set<RequestId>;
  #answers: JSONRPCMessage[] = [];
  #stream?: SseStream;
  #headers: Record<string, string>;
  readonly #batch: boolean;

  constructor(
    ids: RequestId[],
    batch: boolean,
    headers: Record<string, string>,
    onCancel: () => void,
  ) {
    this.#open = new Set(ids);
    this.#batch = batch;
    this.#headers = headers;
    this.response = new Promise((resolve) => this.#resolve = resolve);
    this.#onCancel = onCancel;
  }

  #onCancel: () => void;

  /** Sends `message` for this POST; the last answer owed ends the response. */
  send(message: JSONRPCMessage): void {
    if (!isResponse(message)) return this.#sse().send(message);
    if (!this.#open.delete(message.id)) return;
    if (this.#stream) this.#stream.send(message);
    else this.#answers.push(message);
    if (this.#open.size > 0) return;
    if (this.#stream) this.#stream.close();
    else this.#finishJson();
  }

  /** The request `id` will get no answer (the client cancelled it). */
  abandon(id: RequestId): void {
    if (!this.#open.delete(id) || this.#open.size > 0) return;
    if (this.#stream) this.#stream.close();
    else if (this.#answers.length > 0) this.#finishJson();
    else this.#resolve(new Response(null, { status: 202, headers: this.#headers }));
  }

  /** Ends the response now (the session closed). */
  close(): void {
    this.#open.clear();
    if (this.#stream) this.#stream.close();
    else this.#resolve(httpError(404, RpcCode.RequestTimeout, "Session closed"));
  }

  #finishJson(): void {
    const body = this.#batch ? this.#answers : this.#answers[0];
    this.#resolve(
      new Response(JSON.stringify(body), {
        status: 200,
        headers: { ...this.#headers, "content-type": "application/json" },
      }),
    );
  }

  #sse(): SseStream {
    if (this.#stream) return this.#stream;
    const stream = new SseStream(this.#onCancel);
    this.#stream = stream;
    for (const answer of this.#answers) stream.send(answer);
    this.#answers = [];
    this.#resolve(
      new Response(stream.body, { status: 200, headers: { ...this.#headers, ...SSE_HEADERS } }),
    );
    return stream;
  }
}

/** One MCP session over streamable HTTP; see the module comment. */
export class HttpSessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;
  /** Set once `initialize` has arrived. */
  sessionId?: string;
  #exchanges = new Map<RequestId, Exchange>();
  #standalone?: SseStream;
  #closed = false;

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Handles one HTTP request of this session (or the `initialize` POST that opens it). */
  async handleRequest(request: Request): Promise<Response> {
    if (this.#closed) return httpError(404, -32001, "Session not found");
    if (request.method === "POST") return await this.#post(request);
    if (request.method === "GET") return this.#get(request);
    if (request.method === "DELETE") {
      await this.close();
      return new Response(null, { status: 200 });
    }
    return new Response(
      JSON.stringify({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Method not allowed." },
        id: null,
      }),
      { status: 405, headers: { allow: "GET, POST, DELETE", "content-type": "application/json" } },
    );
  }

  async #post(request: Request): Promise<Response> {
    const accept = request.headers.get("accept") ?? "";
    if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
      return httpError(
        406,
        -32000,
        "Not Acceptable: Client must accept both application/json and text/event-stream",
      );
    }
    const contentType = request.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      return httpError(
        415,
        -32000,
        "Unsupported Media Type: Content-Type must be application/json",
      );
    }
    const text = await readBody(request);
    if (text === undefined) {
      return httpError(413, -32000, requestBodyTooLargeMessage(MAX_BODY_BYTES));
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return httpError(400, RpcCode.ParseError, "Parse error: Invalid JSON");
    }
    const batch = Array.isArray(raw);
    const messages = (batch ? raw : [raw]) as Json[];
    if (messages.length === 0 || messages.length > MAX_BATCH_SIZE || !messages.every(isMessage)) {
      // The SDK's code for this case, which clients already know.
      return httpError(400, RpcCode.ParseError, "Parse error: Invalid JSON-RPC message");
    }
    const initialize = messages.some((m) => m.method === "initialize");
    if (initialize) {
      if (this.sessionId !== undefined) {
        return httpError(
          400,
          RpcCode.InvalidRequest,
          "Invalid Request: Server already initialized",
        );
      }
      if (messages.length > 1) {
        return httpError(
          400,
          RpcCode.InvalidRequest,
          "Invalid Request: Only one initialization request is allowed",
        );
      }
      this.sessionId = crypto.randomUUID();
    } else if (this.sessionId === undefined) {
      return httpError(400, -32000, "Bad Request: Server not initialized");
    } else {
      const version = request.headers.get("mcp-protocol-version");
      if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        return httpError(400, -32000, `Bad Request: Unsupported protocol version: ${version}`);
      }
    }
    const ids = messages.filter(isRequest).map((m) => m.id as RequestId);
    if (ids.length === 0) {
      for (const message of messages) this.onmessage?.(message as JSONRPCMessage);
      return new Response(null, { status: 202 });
    }
    const exchange = new Exchange(ids, batch, { "mcp-session-id": this.sessionId! }, () => {
      // The client hung up: what it still waits for is cancelled.
      for (const id of ids) {
        if (this.#exchanges.get(id) !== exchange) continue;
        this.#exchanges.delete(id);
        this.onmessage?.({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: "the client closed the stream" },
        } as JSONRPCMessage);
      }
    });
    for (const id of ids) this.#exchanges.set(id, exchange);
    for (const message of messages) this.onmessage?.(message as JSONRPCMessage);
    return await exchange.response;
  }

  #get(request: Request): Response {
    if (!(request.headers.get("accept") ?? "").includes("text/event-stream")) {
      return httpError(406, -32000, "Not Acceptable: Client must accept text/event-stream");
    }
    if (this.#standalone && !this.#standalone.closed) {
      return httpError(409, -32000, "Conflict: Only one SSE stream is allowed per session");
    }
    const stream = new SseStream(() => {
      if (this.#standalone === stream) this.#standalone = undefined;
    });
    this.#standalone = stream;
    return new Response(stream.body, {
      status: 200,
      headers: { ...SSE_HEADERS, "mcp-session-id": this.sessionId ?? "" },
    });
  }

  /**
   * Sends a message: a response, or a message related to an open request, on that request's
   * POST; anything else on the GET stream. A request that no open stream can carry rejects
   * (the client could never answer it); such a notification is dropped.
   */
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const key = isResponse(message) ? message.id : options?.relatedRequestId;
    const exchange = key === undefined ? undefined : this.#exchanges.get(key);
    if (exchange) {
      exchange.send(message);
      if (isResponse(message)) this.#exchanges.delete(message.id);
      return Promise.resolve();
    }
    if (isResponse(message)) return Promise.resolve(); // its POST is gone (cancelled, closed)
    if (this.#standalone && !this.#standalone.closed) {
      this.#standalone.send(message);
      return Promise.resolve();
    }
    if (isRequest(message)) {
      return Promise.reject(new Error("no open stream to the client for a request"));
    }
    return Promise.resolve();
  }

  /** Ends the POST response of request `id`, which will get no answer. */
  abandon(id: RequestId): void {
    this.#exchanges.get(id)?.abandon(id);
    this.#exchanges.delete(id);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const exchange of new Set(this.#exchanges.values())) exchange.close();
    this.#exchanges.clear();
    this.#standalone?.close();
    this.onclose?.();
    return Promise.resolve();
  }
}

/**
 * The body as text, or undefined past {@link MAX_BODY_BYTES}. A declared length within the
 * limit is read in one go (cheaper than a chunked read); without one the read stops at the limit.
 */
async function readBody(request: Request): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > MAX_BODY_BYTES) return undefined;
  if (Number.isFinite(declared)) {
    const text = await request.text();
    // A body longer than declared is cut by the HTTP layer; checked again for safety.
    return text.length > MAX_BODY_BYTES ? undefined : text;
  }
  const body = await readRequestBody(request, MAX_BODY_BYTES);
  return body.tooLarge ? undefined : body.text;
}

function isMessage(message: unknown): boolean {
  return message !== null && typeof message === "object" && !Array.isArray(message) &&
    (message as Json).jsonrpc === "2.0";
}
