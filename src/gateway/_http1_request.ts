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
/** `Host`: a reg-name or IPv4 address, or a bracketed IPv6 literal, then an optional port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::\d{0,5})?$/;
/** Characters a header value may hold (RFC 9110 field-value, with obs-text). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Parses `head` (request line, header lines, the empty line). `fallbackHost` names the server
 * for an HTTP/1.0 request without `Host`.
 *
 * @returns the head, or a string saying why it is refused (answer 400).
 */
export function parseRequestHead(head: Uint8Array, fallbackHost: string): RequestHead | string {
  const lines = latin1.decode(head).split("\n");
  let index = 0;
  while (index < lines.length && (lines[index] === "" || lines[index] === "\r")) index++;
  const requestLine = stripCr(lines[index++]);
  const firstSpace = requestLine.indexOf(" ");
  const lastSpace = requestLine.lastIndexOf(" ");
  const method = requestLine.slice(0, firstSpace);
  const target = requestLine.slice(firstSpace + 1, lastSpace);
  const minorVersion = requestLine.charCodeAt(requestLine.length - 1) - 0x30;
  const headers: string[] = [];
  let host: string | undefined;
  let connection = "";
  let expect = "";
  for (; index < lines.length; index++) {
    const line = stripCr(lines[index]);
    if (line === "") break;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return "invalid header value";
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
  let url: string;
  if (target.startsWith("/")) url = `http://${host}${target}`;
  else if (/^https?:\/\//i.test(target)) url = target;
  else if (target === "*" && method === "OPTIONS") url = `http://${host}/*`;
  else return "unsupported request target";
  if (!URL.canParse(url)) return "invalid request target";
  const tokens = connection.split(",").map((t) => t.trim());
  const keepAlive = minorVersion === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
  return {
    method,
    url,
    headers,
    minorVersion,
    keepAlive,
    expectContinue: minorVersion === 1 && expect === "100-continue",
  };
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
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

  /** Builds the request of `head`, its body `body`. */
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
