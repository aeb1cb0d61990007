/**
 * Private to src/gateway: serves HTTP/1.x on one accepted TCP connection, in process: frames
 * each request ({@link RequestFramer}), builds the `Request` (its body a stream fed as the bytes
 * arrive, with backpressure), calls the handler, and writes the `Response`
 * ({@link writeResponse}). Pipelined requests are answered one at a time, in order. A client
 * that goes away aborts `request.signal` and cancels a response body still streaming, so an
 * event stream's `cancel` runs. The connection guard owns the accept loop, the cap and the
 * deadlines; it reads the timestamps and states kept here.
 */
import type { Logger } from "../log.ts";
import { writeAll } from "../write_all.ts";
import { RequestFramer } from "./_request_framing.ts";
import { parseRequestHead, type RequestHead, ServerRequest } from "./_http1_request.ts";
import { CONTINUE, plainResponse, writeResponse } from "./_http1_response.ts";

/** A request handler, as `Deno.serve` takes one. */
export type Http1Handler = (request: Request) => Response | Promise<Response>;

/** What every connection of one server shares. */
export interface Http1ServerContext {
  handler: Http1Handler;
  /** Answers a request whose handler threw. */
  onError: (error: unknown) => Response | Promise<Response>;
  /** `Host` for an HTTP/1.0 request without one: the listening address. */
  fallbackHost: string;
  logger: Logger;
  /** True once the server is shutting down: responses end their connection. */
  closing(): boolean;
}

const READ_BYTES = 16 * 1024;
/** Request body bytes queued for a handler that has not read them yet. */
const BODY_HIGH_WATER_BYTES = 64 * 1024;

/** One client connection and the state the guard's deadlines look at. */
export class Http1Connection {
  readonly framer: RequestFramer = new RequestFramer();
  /** When the current head started (set at accept for the first); undefined outside a head. */
  headStartedAt: number | undefined;
  /** Whether a complete request head has arrived yet. */
  served = false;
  /** A request is being answered (its handler runs or its response is being written). */
  responding = false;
  idleSince: number;
  lastActivityAt: number;
  /**
   * Since when a write to the client has made no progress (undefined when none is waiting): a
   * client that stops reading a response (an event stream) is closed after the idle timeout,
   * which cancels the stream, so nothing is buffered for it without bound.
   */
  writeStalledSince: number | undefined;
  /** The client closed its side while a response was on its way. */
  clientEnded = false;
  closed = false;
  /** Settles when the request being answered has its response written. */
  current: Promise<void> = Promise.resolve();

  readonly #tcp: Deno.TcpConn;
  readonly #context: Http1ServerContext;
  readonly #onClose: (connection: Http1Connection) => void;
  #body: BodySink | undefined;
  #request: ServerRequest | undefined;
  #streaming: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bytes of the current request's response (or its `100 Continue`) were written. */
  #responseStarted = false;
  /** The server refused the current request itself: the handler's response is dropped. */
  #refused = false;

  constructor(
    tcp: Deno.TcpConn,
    context: Http1ServerContext,
    onClose: (connection: Http1Connection) => void,
  ) {
    this.#tcp = tcp;
    this.#context = context;
    this.#onClose = onClose;
    const now = performance.now();
    this.headStartedAt = now;
    this.idleSince = now;
    this.lastActivityAt = now;
  }

  /** Closes the connection; a request in progress sees its signal aborted. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#request?.abort(new Error("the client connection closed"));
    this.#streaming?.cancel().catch(() => {});
    this.#body?.fail(new Error("the client connection closed"));
    try {
      this.#tcp.close();
    } catch { /* closed already */ }
    this.#onClose(this);
  }

  /** Reads and answers requests until the connection ends; never rejects. */
  async run(): Promise<void> {
    try {
      await this.#readRequests();
    } catch (error) {
      this.#context.logger.debug("gateway connection failed", { error: String(error) });
      this.close();
    }
  }

  async #readRequests(): Promise<void> {
    const buffer = new Uint8Array(READ_BYTES);
    for (;;) {
      let n: number | null;
      try {
        n = await this.#tcp.read(buffer);
      } catch {
        n = null;
      }
      if (n === null || this.closed) break;
      const now = performance.now();
      this.lastActivityAt = now;
      // A view of just what was read, so the framer's native searches stop at its end.
      const data = buffer.subarray(0, n);
      let offset = 0;
      while (offset < n) {
        let end = this.framer.consume(data, offset, n);
        switch (this.framer.framing) {
          case "partial":
            this.headStartedAt ??= now;
            break;
          case "error":
            this.#context.logger.debug("gateway closed a connection that broke HTTP framing", {
              reason: this.framer.error,
            });
            if (this.#body) {
              // The body of the request being answered broke its framing: its handler sees
              // the body fail, and the client gets the refusal unless a response has started.
              await this.#refuseMidBody(this.framer.errorStatus);
            } else await this.#answerAndClose(this.framer.errorStatus);
            return;
          case "head": {
            this.headStartedAt = undefined;
            this.served = true;
            // Pipelining: the next request waits for the response before it.
            if (this.responding) await this.current;
            if (this.closed) return;
            const head = parseRequestHead(this.framer.head, this.#context.fallbackHost);
            if (typeof head === "string") {
              this.#context.logger.debug("gateway refused a request head", { reason: head });
              await this.#answerAndClose(400);
              return;
            }
            let body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null = null;
            const fixed = this.framer.fixedBodyRemaining;
            if (fixed !== undefined && fixed <= n - end) {
              // The whole body came with the head: no stream needed.
              const bodyEnd = this.framer.consume(data, end, n);
              body = data.slice(end, bodyEnd);
              end = bodyEnd;
            } else if (this.framer.inBody) {
              this.#body = new BodySink();
              body = this.#body.stream;
            }
            if (head.method === "GET" || head.method === "HEAD") {
              this.#body?.discard();
              body = null;
            }
            let request: ServerRequest;
            try {
              request = new ServerRequest(head, body);
            } catch (error) {
              this.#context.logger.debug("gateway refused a request head", {
                reason: String(error),
              });
              await this.#answerAndClose(400);
              return;
            }
            this.current = this.#answer(request, head, this.#body);
            break;
          }
          case "body": {
            const waiting = this.#body?.push(data.slice(offset, end));
            if (waiting) await waiting;
            break;
          }
          case "chunking":
            break;
        }
        if (!this.framer.inBody && this.#body) {
          this.#body.end();
          this.#body = undefined;
        }
        offset = end;
      }
    }
    // The client closed its side.
    this.#body?.fail(new Error("the client closed the connection before the request body ended"));
    this.#body = undefined;
    if (!this.responding || this.#streaming) this.close();
    else this.clientEnded = true;
  }

  async #answer(
    request: ServerRequest,
    head: RequestHead,
    sink: BodySink | undefined,
  ): Promise<void> {
    this.responding = true;
    this.#request = request;
    let keepAlive = false;
    try {
      let response: Response;
      try {
        if (head.expectContinue && sink) await this.#writeResponseBytes(CONTINUE);
        response = await this.#context.handler(request);
      } catch (error) {
        response = await this.#onError(error);
      }
      if (this.closed) {
        await response.body?.cancel().catch(() => {});
        return;
      }
      keepAlive = await writeResponse(response, {
        write: (bytes) => this.#writeResponseBytes(bytes),
        method: head.method,
        minorVersion: head.minorVersion,
        keepAlive: head.keepAlive && !this.#context.closing() && !(sink && !sink.ended),
        onStream: (reader) => this.#streaming = reader,
      });
    } catch (error) {
      this.#context.logger.debug("gateway could not finish a response", { error: String(error) });
      keepAlive = false;
    } finally {
      this.#streaming = undefined;
      this.#request = undefined;
      this.#responseStarted = false;
      sink?.discard();
      this.responding = false;
      this.idleSince = performance.now();
    }
    // A response sent before its request body ended (a 413, a 401 to a large POST) closes the
    // connection: the rest of that body is never read, so it cannot be taken for a request, and
    // a client cannot keep the connection busy sending bytes nobody wants.
    if (!keepAlive || this.clientEnded || this.#context.closing() || (sink && !sink.ended)) {
      request.abort(new Error("the connection closed"));
      this.close();
    }
  }

  async #onError(error: unknown): Promise<Response> {
    try {
      return await this.#context.onError(error);
    } catch {
      return new Response("Internal error\n", { status: 500 });
    }
  }

  /** A write of the handler's response; refused once the server answered the request itself. */
  #writeResponseBytes(data: Uint8Array): Promise<void> {
    if (this.#refused || this.closed) return Promise.reject(new Error("the request was refused"));
    this.#responseStarted = true;
    return this.#write(data);
  }

  async #write(data: Uint8Array): Promise<void> {
    this.writeStalledSince = performance.now();
    try {
      await writeAll(this.#writer, data);
    } finally {
      this.writeStalledSince = undefined;
    }
    this.lastActivityAt = performance.now();
  }

  /** The connection as {@link writeAll} writes it: each partial write counts as progress. */
  readonly #writer = {
    write: async (bytes: Uint8Array): Promise<number> => {
      const n = await this.#tcp.write(bytes);
      this.writeStalledSince = performance.now();
      return n;
    },
  };

  async #refuseMidBody(status: number): Promise<void> {
    const error = new Error("the request body broke HTTP framing");
    const responseStarted = this.#responseStarted;
    this.#refused = true;
    this.#body?.fail(error);
    this.#body = undefined;
    this.#request?.abort(error);
    if (!responseStarted && !this.closed) {
      await writeAll(this.#tcp, plainResponse(status)).catch(() => {});
    }
    this.close();
  }

  async #answerAndClose(status: number): Promise<void> {
    await this.current;
    if (!this.closed) await this.#write(plainResponse(status)).catch(() => {});
    this.close();
  }
}

/** A request body fed by the read loop; `push` says when to wait for the handler to read. */
class BodySink {
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #wake: (() => void) | undefined;
  #finished = false;

  constructor() {
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#resume(),
      cancel: () => this.discard(),
    }, { highWaterMark: BODY_HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength });
  }

  /** Queues a chunk; a promise when the queue is full, settled once the reader wants more. */
  push(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#finished) return undefined;
    this.#controller.enqueue(chunk);
    if ((this.#controller.desiredSize ?? 1) > 0) return undefined;
    return new Promise((resolve) => this.#wake = resolve);
  }

  /** Whether the whole body arrived. */
  ended = false;

  end(): void {
    this.ended = true;
    if (this.#finished) return;
    this.#finished = true;
    this.#controller.close();
  }

  fail(error: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#controller.error(error);
    this.#resume();
  }

  /** Drops what is still to come (the handler answered without reading it all). */
  discard(): void {
    this.#finished = true;
    this.#resume();
  }

  #resume(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
