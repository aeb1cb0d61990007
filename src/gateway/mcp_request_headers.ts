/**
 * The request headers of the MCP 2026-07-28 streamable HTTP wire (SEP-2243): `Mcp-Method` on
 * every POST, `Mcp-Name` on `tools/call`, `prompts/get` and `resources/read`, and one
 * `Mcp-Param-<Name>` per tool argument the tool's input schema marks with `x-mcp-header`.
 * Also decides which tool definitions a client must leave out because an `x-mcp-header`
 * annotation breaks the rules.
 */
import { Buffer } from "node:buffer";
import { isRecord } from "../config/is_record.ts";

/** One tool argument to mirror into the header `Mcp-Param-<name>`. */
export interface ParamHeader {
  /** The `x-mcp-header` value. */
  name: string;
  /** Property names from the arguments object down to the value (nested objects allowed). */
  path: string[];
}

/** What {@link readParamHeaders} found in a tool's input schema. */
export type ParamHeaderScan = { headers: ParamHeader[] } | { invalid: string };

/** RFC 9110 `token` (1*tchar): no space, colon, control or non-ASCII character. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRIMITIVE_TYPES = new Set(["string", "integer", "boolean"]);
const SENTINEL = /^=\?base64\?.*\?=$/s;
/** Bounds the walk through hostile schemas. */
const MAX_DEPTH = 32;

/**
 * Reads the `x-mcp-header` annotations of `inputSchema`, following `properties` at any depth.
 * Returns why the tool must be rejected when one is empty, not an HTTP token, on a property that
 * is not a string, integer or boolean, or a case-insensitive duplicate of another.
 */
export function readParamHeaders(inputSchema: unknown): ParamHeaderScan {
  const headers: ParamHeader[] = [];
  const seen = new Set<string>();
  const walk = (schema: unknown, path: string[]): string | undefined => {
    const properties = isRecord(schema) ? schema.properties : undefined;
    if (!isRecord(properties) || path.length > MAX_DEPTH) return undefined;
    for (const [key, property] of Object.entries(properties)) {
      if (!isRecord(property)) continue;
      const name = property["x-mcp-header"];
      if (name !== undefined) {
        const where = `x-mcp-header of "${[...path, key].join(".")}"`;
        if (typeof name !== "string" || name === "") return `${where} is empty or not a string`;
        if (!TOKEN.test(name)) return `${where} is not a valid header name`;
        if (!isPrimitive(property.type)) return `${where} is on a non-primitive property`;
        if (seen.has(name.toLowerCase())) return `${where} repeats "${name}"`;
        seen.add(name.toLowerCase());
        headers.push({ name, path: [...path, key] });
      }
      const nested = walk(property, [...path, key]);
      if (nested) return nested;
    }
    return undefined;
  };
  const invalid = walk(inputSchema, []);
  return invalid ? { invalid } : { headers };
}

/** `type` of a string, integer or boolean property, optionally also `null`. */
function isPrimitive(type: unknown): boolean {
  const types = Array.isArray(type) ? type.filter((t) => t !== "null") : [type];
  return types.length === 1 && PRIMITIVE_TYPES.has(types[0] as string);
}

/**
 * A header value for `value`: as it is when it is printable ASCII without leading or trailing
 * whitespace, else `=?base64?<UTF-8 Base64>?=` (also for a value that looks like that form).
 */
export function encodeHeaderValue(value: string): string {
  const plain = !/[^\x20-\x7e]/.test(value) && value === value.trim() && !SENTINEL.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

/**
 * The SEP-2243 headers of one outgoing JSON-RPC message: `Mcp-Method` for any request or
 * notification, `Mcp-Name` for the three named methods, and for `tools/call` the
 * `Mcp-Param-*` headers of `paramHeaders(tool)` whose argument is present and not null.
 */
export function mcpRequestHeaders(
  message: unknown,
  paramHeaders: (tool: string) => ParamHeader[] | undefined,
): Record<string, string> {
  if (!isRecord(message) || typeof message.method !== "string") return {};
  const headers: Record<string, string> = { "Mcp-Method": message.method };
  const params = isRecord(message.params) ? message.params : {};
  const name = mcpName(message.method, params);
  if (name === undefined) return headers;
  headers["Mcp-Name"] = encodeHeaderValue(name);
  if (message.method !== "tools/call") return headers;
  for (const header of paramHeaders(name) ?? []) {
    const value = headerText(valueAt(params.arguments, header.path));
    if (value !== undefined) headers[`Mcp-Param-${header.name}`] = encodeHeaderValue(value);
  }
  return headers;
}

function mcpName(method: string, params: Record<string, unknown>): string | undefined {
  const source = method === "resources/read"
    ? params.uri
    : method === "tools/call" || method === "prompts/get"
    ? params.name
    : undefined;
  return typeof source === "string" ? source : undefined;
}

function valueAt(args: unknown, path: string[]): unknown {
  let value = args;
  for (const key of path) value = isRecord(value) && Object.hasOwn(value, key) ? value[key] : null;
  return value;
}

/** The text of a string, integer or boolean argument; nothing for null, absent or other. */
function headerText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}
