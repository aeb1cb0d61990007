/**
 * The few JSON-RPC 2.0 shapes the gateway routes itself, checked structurally (no schema
 * library on the hot path: the peer that finally handles a message validates it).
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";

export type { JSONRPCMessage, RequestId };

/** A JSON object. */
export type Json = Record<string, unknown>;

/** A request: `method`, `id`, optional `params`. */
export interface RpcRequest {
  jsonrpc: "2.0";
  id: RequestId;
  method: string;
  params?: Json;
}

/** A notification: `method`, optional `params`, no `id`. */
export interface RpcNotification {
  jsonrpc: "2.0";
  method: string;
  params?: Json;
}

/** The error member of an error response. */
export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

/** A result or error response. */
export type RpcResponse =
  | { jsonrpc: "2.0"; id: RequestId; result: Json }
  | { jsonrpc: "2.0"; id: RequestId; error: RpcErrorBody };

/** JSON-RPC and MCP error codes the gateway sends. */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ConnectionClosed: -32000,
  RequestTimeout: -32001,
} as const;

/** True for a request (has `method` and `id`). */
export function isRequest(message: unknown): message is RpcRequest {
  const m = message as Json;
  return typeof m?.method === "string" && (typeof m.id === "string" || typeof m.id === "number");
}

/** True for a notification (has `method`, no `id`). */
export function isNotification(message: unknown): message is RpcNotification {
  const m = message as Json;
  return typeof m?.method === "string" && m.id === undefined;
}

/** True for a response (an `id` and a `result` or `error`, no `method`). */
export function isResponse(message: unknown): message is RpcResponse {
  const m = message as Json;
  return m?.method === undefined && (typeof m?.id === "string" || typeof m?.id === "number") &&
    ("result" in m || "error" in m);
}

/** An error response. */
export function errorResponse(id: RequestId, code: number, message: string, data?: unknown) {
  const error: RpcErrorBody = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: "2.0" as const, id, error };
}

/** The params object of a message, or an empty one. */
export function paramsOf(message: { params?: unknown }): Json {
  const params = message.params;
  return params !== null && typeof params === "object" && !Array.isArray(params)
    ? params as Json
    : {};
}
