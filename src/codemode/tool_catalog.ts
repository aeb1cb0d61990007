/** The shape in which code mode receives the gateway's tools. */

/**
 * One upstream tool as code mode sees it: the server it belongs to (the name in the
 * config), its own name (without the gateway's `<server>__` prefix) and its MCP metadata.
 */
export interface CatalogTool {
  /** Upstream server name, as configured. */
  server: string;
  /** Tool name as the upstream server reports it. */
  name: string;
  /**
   * The name the gateway exposes it under (`tools/call` takes this one): `<prefix>__<name>`,
   * or `name` for `prefix: ""`. Undefined: `<server>__<name>`.
   */
  exposedName?: string;
  /** Human-readable description from the upstream server. */
  description?: string;
  /** JSON Schema of the tool's arguments. */
  inputSchema: Record<string, unknown>;
  /** JSON Schema of the tool's `structuredContent`, when it declares one. */
  outputSchema?: Record<string, unknown>;
}
