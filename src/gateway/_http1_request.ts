/**
 * Private to src/gateway: turns a complete HTTP/1.x request head (as
 * {@link ../gateway/_request_framing.ts} found it, framing already checked) into what a
 * `Request` is built from: method, URL, headers, and the connection semantics
 * (keep-alive, `Expect: 100-continue`); and the `Request` class the server hands its handler.
 */

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** `http://<Host header><path>`, or the absolute-form target. */
  url: string;
  /** Header names and values in the order sent: name, value, name, value… */
  headers: string[];
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  /** The client lets the connection stay open after the response. */
  keepAlive: boolean;
  /** The client waits for `100 Continue` before it sends the body. */
  expectContinue: boolean;
}

const latin1 = new TextDecoder("latin1");
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
// deno-lint-ignore no-control-regex
const TARGET_FORBIDDEN = /[\x00-\x20\x7f]/;
/** Optional whitespace (SP, HTAB) around a header value. */
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;
/** `Host`: a reg-name or IPv4 address, or a bracketed IPv6 literal, then an optional port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::\d{0,5})?$/;

/**
 * Parses `head` (request line, header lines, the empty line). `fallbackHost` names the server
 * for an HTTP/1.0 request without `Host`.
 *
 * @returns the head, or a string saying why it is refused (answer 400).
 */
export function parseRequestHead(head: Uint8Array, fallbackHost: string): RequestHead | string {
  const text = latin1.decode(head);
  let start = 0;
  while (text.charCodeAt(start) === 13 || text.charCodeAt(start) === 10) start++;
  let end = lineEnd(text, start);
  const requestLine = text.slice(start, end);
  const firstSpace = requestLine.indexOf(" ");
  const lastSpace = requestLine.lastIndexOf(" ");
  const method = requestLine.slice(0, firstSpace);
  const target = requestLine.slice(firstSpace + 1, lastSpace);
  const minorVersion = requestLine.charCodeAt(requestLine.length - 1) - 0x30;
  const headers: string[] = [];
  let host: string | undefined;
  let connection = "";
  let expect = "";
  for (start = nextLine(text, end); start < text.length; start = nextLine(text, end)) {
    end = lineEnd(text, start);
    if (end === start) break;
    const colon = text.indexOf(":", start);
    const name = text.slice(start, colon);
    const raw = text.slice(colon + 1, end);
    // Control bytes other than HTAB (a bare CR among them) are refused, as hyper does.
    if (CONTROL.test(raw)) return "control byte in a header value";
    const value = raw.replace(OWS_EDGES, "");
    headers.push(name, value);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === "host") {
          if (host !== undefined) return "more than one Host header";
          host = value;
        }
        break;
      case 6:
        if (name.toLowerCase() === "expect") expect = value.toLowerCase();
        break;
      case 10:
        if (name.toLowerCase() === "connection") connection += `,${value.toLowerCase()}`;
        break;
    }
  }
  if (host === undefined) {
    if (minorVersion === 1) return "missing Host header";
    host = fallbackHost;
  }
  if (!HOST.test(host)) return "invalid Host header";
  if (TARGET_FORBIDDEN.test(target)) return "control byte in the request target";
  let url: string;
  if (target.startsWith("/")) url = `http://${host}${target}`;
  else if (/^https?:\/\//i.test(target)) {
    // Absolute form: its authority must be the Host header's, without userinfo, so the
    // Host allow-list (which reads the URL) sees the host the client named in both places.
    let parsed: URL;
    let named: URL;
    try {
      parsed = new URL(target);
      named = new URL(`http://${host}/`);
    } catch {
      return "invalid request target";
    }
    if (/^https?:\/\/[^/?#]*@/i.test(target)) return "userinfo in the request target";
    if (parsed.host !== named.host) {
      return "request target authority differs from Host";
    }
    url = target;
  } else if (target === "*" && method === "OPTIONS") url = `http://${host}/*`;
  else return "unsupported request target";
  return {
    method,
    url,
    headers,
    minorVersion,
    keepAlive: keepsAlive(minorVersion, connection),
    expectContinue: minorVersion === 1 && expect === "100-continue",
  };
}

/**
 * Whether a message of HTTP/1.`minorVersion` lets its connection carry another one, given its
 * `Connection` tokens (lower case, comma-separated, "" for none): 1.1 unless `close`, 1.0 only
 * with `keep-alive` (RFC 9112 §9.3). Requests and responses alike.
 */
export function keepsAlive(minorVersion: number, connection: string): boolean {
  if (connection === "") return minorVersion === 1;
  const tokens = connection.split(",").map((t) => t.trim());
  return minorVersion === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
}

/** Index of the LF ending the line at `start` (a CR before it excluded), or the text's end. */
export function lineEnd(text: string, start: number): number {
  let end = text.indexOf("\n", start);
  if (end === -1) end = text.length;
  return end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

/** Where the line after the one ending at `end` (as {@link lineEnd} gave it) starts. */
export function nextLine(text: string, end: number): number {
  return text.charCodeAt(end) === 13 ? end + 2 : end + 1;
}

const ABORT = Symbol("abort");

/**
 * The request a handler gets. Its `signal` aborts when the client goes away; the controller
 * behind it is made only when a handler reads `signal` (a `Request` built with a signal costs
 * as much again as one without).
 */
export class ServerRequest extends Request {
  [ABORT]: AbortController | undefined;
  #abortReason: unknown = undefined;
  #aborted = false;

  /**
   * Builds the request of `head`, its body `body`.
   *
   * @throws {TypeError} when the URL or a header value is invalid (answer 400).
   */
  constructor(head: RequestHead, body: BodyInit | null) {
    super(head.url, { method: head.method, body });
    const headers = this.headers;
    for (let i = 0; i < head.headers.length; i += 2) {
      headers.append(head.headers[i], head.headers[i + 1]);
    }
  }

  /** Aborts `signal`, now or when it is first read. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this[ABORT]?.abort(reason);
  }

  /** The controller behind `signal`, made on first use. */
  controller(): AbortController {
    let controller = this[ABORT];
    if (!controller) {
      controller = this[ABORT] = new AbortController();
      if (this.#aborted) controller.abort(this.#abortReason);
    }
    return controller;
  }
}
Object.defineProperty(ServerRequest.prototype, "signal", {
  get(this: ServerRequest) {
    return this.controller().signal;
  },
});
