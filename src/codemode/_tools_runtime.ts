/**
 * Source text of the runtime part of the served tools module (private to this folder):
 * the `ToolError` class and the code that carries a call to the gateway. Inside the exec
 * sandbox (no network permission) a call goes through the relay the sandbox's preamble
 * installed under `Symbol.for("toolscript.relay")`: the parent process makes the call. Anywhere
 * else a minimal MCP streamable HTTP client written against plain `fetch` posts it to the
 * gateway, reading the gateway token, when there is one, from
 * `globalThis.__TOOLSCRIPT_GATEWAY_TOKEN__` at call time. The module has no imports, and the
 * text itself holds no secret.
 */
import { NAME_SEPARATOR } from "../config/name_separator.ts";

/** `ToolError` as shipped in the module. */
export const TOOL_ERROR_SOURCE = String
  .raw`/** Thrown by a tool function when the tool reports an error or cannot be reached. */
export class ToolError extends Error {
  /** Upstream server name, as configured in toolscript. */
  readonly server: string;
  /** Tool name on that server. */
  readonly tool: string;
  constructor(message: string, options: { server: string; tool: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ToolError";
    this.server = options.server;
    this.tool = options.tool;
  }
}
`;

/** `ToolError` as shown by `toolscript types`. */
export const TOOL_ERROR_DECLARATION = String
  .raw`/** Thrown by a tool function when the tool reports an error or cannot be reached. */
export declare class ToolError extends Error {
  /** Upstream server name, as configured in toolscript. */
  readonly server: string;
  /** Tool name on that server. */
  readonly tool: string;
  constructor(message: string, options: { server: string; tool: string; cause?: unknown });
}
`;

const RUNTIME = String.raw`const GATEWAY_ENDPOINT: string = __ENDPOINT__;
const PROTOCOL_VERSION = "2025-06-18";
/** Set by the exec sandbox: (server, tool, arguments) → the gateway's CallToolResult. */
const RELAY_KEY = Symbol.for("toolscript.relay");

interface CallSite {
  server: string;
  tool: string;
}
interface Session {
  id: string | undefined;
  protocolVersion: string;
}
interface JsonRpcReply {
  id: number;
  result?: unknown;
  error?: { message?: unknown };
}

let session: Promise<Session> | undefined;
let lastRequestId = 0;

function requestHeaders(current: Session | undefined): Headers {
  const headers = new Headers({
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
  });
  const token = (globalThis as { __TOOLSCRIPT_GATEWAY_TOKEN__?: unknown })
    .__TOOLSCRIPT_GATEWAY_TOKEN__;
  if (typeof token === "string" && token !== "") headers.set("Authorization", "Bearer " + token);
  if (current?.id !== undefined) headers.set("Mcp-Session-Id", current.id);
  if (current !== undefined) headers.set("Mcp-Protocol-Version", current.protocolVersion);
  return headers;
}

async function post(message: unknown, site: CallSite, current?: Session): Promise<Response> {
  try {
    return await fetch(GATEWAY_ENDPOINT, {
      method: "POST",
      headers: requestHeaders(current),
      body: JSON.stringify(message),
    });
  } catch (error) {
    const text = "Cannot reach the toolscript gateway at " + GATEWAY_ENDPOINT;
    throw new ToolError(text, { ...site, cause: error });
  }
}

function isReplyTo(id: number): (message: unknown) => message is JsonRpcReply {
  return (message: unknown): message is JsonRpcReply =>
    typeof message === "object" && message !== null && (message as { id?: unknown }).id === id &&
    ("result" in message || "error" in message);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readEventStream(body: ReadableStream<Uint8Array>, id: number): Promise<unknown> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data: string[] = [];
  try {
    for (;;) {
      const chunk = await reader.read();
      if (!chunk.done) buffer += chunk.value;
      const lines = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = chunk.done ? "" : lines.pop() ?? "";
      if (chunk.done) lines.push("");
      for (const line of lines) {
        if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        if (line !== "" || data.length === 0) continue;
        const message = parseJson(data.join("\n"));
        data = [];
        if (isReplyTo(id)(message)) return message;
      }
      if (chunk.done) return undefined;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function readReply(response: Response, id: number, site: CallSite): Promise<JsonRpcReply> {
  if (!response.ok) {
    const error = (parseJson(await response.text()) as JsonRpcReply | undefined)?.error;
    const reason = typeof error?.message === "string" ? ": " + error.message : "";
    const text = "The toolscript gateway answered HTTP " + response.status + reason;
    throw new ToolError(text, site);
  }
  const type = response.headers.get("Content-Type") ?? "";
  let reply: unknown;
  if (type.includes("text/event-stream") && response.body) {
    reply = await readEventStream(response.body, id);
  } else {
    const parsed = parseJson(await response.text());
    reply = (Array.isArray(parsed) ? parsed : [parsed]).find(isReplyTo(id));
  }
  if (!isReplyTo(id)(reply)) {
    throw new ToolError("The toolscript gateway sent no reply to request " + id, site);
  }
  return reply;
}

function errorText(reply: JsonRpcReply): string | undefined {
  if (reply.error === undefined) return undefined;
  return typeof reply.error.message === "string" ? reply.error.message : "Unknown JSON-RPC error";
}

async function initialize(site: CallSite): Promise<Session> {
  const id = ++lastRequestId;
  const response = await post({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "toolscript-exec", version: "1.0.0" },
    },
  }, site);
  const reply = await readReply(response, id, site);
  const failure = errorText(reply);
  if (failure !== undefined) {
    throw new ToolError("Cannot open a session with the toolscript gateway: " + failure, site);
  }
  const negotiated = (reply.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  const current: Session = {
    id: response.headers.get("Mcp-Session-Id") ?? undefined,
    protocolVersion: typeof negotiated === "string" ? negotiated : PROTOCOL_VERSION,
  };
  const ack = await post({ jsonrpc: "2.0", method: "notifications/initialized" }, site, current);
  await ack.body?.cancel();
  if (!ack.ok) {
    throw new ToolError("The toolscript gateway answered HTTP " + ack.status, site);
  }
  return current;
}

function openSession(site: CallSite): Promise<Session> {
  if (session === undefined) {
    const pending = initialize(site);
    session = pending;
    pending.catch(() => {
      if (session === pending) session = undefined;
    });
  }
  return session;
}

function unwrapResult(result: unknown, site: CallSite): unknown {
  const { content, structuredContent, isError } = (result ?? {}) as {
    content?: unknown;
    structuredContent?: unknown;
    isError?: unknown;
  };
  const blocks: unknown[] = Array.isArray(content) ? content : [];
  const texts = blocks.flatMap((block) => {
    const { type, text } = (block ?? {}) as { type?: unknown; text?: unknown };
    return type === "text" && typeof text === "string" ? [text] : [];
  });
  if (isError === true) {
    const fallback = "Tool " + site.server + "${NAME_SEPARATOR}" + site.tool + " failed";
    throw new ToolError(texts.join("\n") || fallback, site);
  }
  if (structuredContent !== undefined) return structuredContent;
  if (blocks.length === 1 && texts.length === 1) return texts[0];
  return blocks;
}

type Relay = (server: string, tool: string, args: unknown, name: string) => Promise<unknown>;

async function callThroughRelay(
  relay: Relay,
  site: CallSite,
  args: unknown,
  name: string,
): Promise<unknown> {
  let result: unknown;
  try {
    result = await relay(site.server, site.tool, args ?? {}, name);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    throw new ToolError(text, { ...site, cause: error });
  }
  return unwrapResult(result, site);
}

/** Calls "tool" of "server", which the gateway exposes as "name" (its prefix and filters). */
async function callTool(
  server: string,
  tool: string,
  args: unknown,
  name: string = server + "${NAME_SEPARATOR}" + tool,
): Promise<unknown> {
  const site: CallSite = { server, tool };
  const relay = (globalThis as Record<symbol, unknown>)[RELAY_KEY];
  if (typeof relay === "function") {
    return await callThroughRelay(relay as Relay, site, args, name);
  }
  for (let attempt = 1;; attempt++) {
    const pending = openSession(site);
    const current = await pending;
    const id = ++lastRequestId;
    const response = await post({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name, arguments: args ?? {} },
    }, site, current);
    if (response.status === 404 && current.id !== undefined && attempt === 1) {
      // The gateway forgot the session (restart, expiry): open a new one, once.
      await response.body?.cancel();
      if (session === pending) session = undefined;
      continue;
    }
    const reply = await readReply(response, id, site);
    const failure = errorText(reply);
    if (failure !== undefined) throw new ToolError(failure, site);
    return unwrapResult(reply.result, site);
  }
}
`;

/** The client runtime, posting to `endpoint` (the gateway's `/mcp` URL). */
export function toolsRuntimeSource(endpoint: string): string {
  return RUNTIME.replace("__ENDPOINT__", () => JSON.stringify(endpoint));
}
