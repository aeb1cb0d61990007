/**
 * Decides which tools the conformance client calls and with what arguments: the calls the
 * scenario names in its context, else every tool the gateway lists, with the smallest
 * arguments its input schema accepts. `json_schema_echo` (the JSON Schema preservation
 * scenario) gets back the input schema of the other tool, as that scenario asks.
 */

/** A tool as the gateway lists it (namespaced name). */
export interface ListedTool {
  name: string;
  inputSchema?: Record<string, unknown>;
}

/** One call to make. */
export interface PlannedCall {
  /** Namespaced: `<server>__<tool>`. */
  name: string;
  arguments: Record<string, unknown>;
}

/** The echo tool of `json-schema-2020-12-preservation`. */
const ECHO_TOOL = "json_schema_echo";

/** The calls to make, in order. */
export function planCalls(
  server: string,
  tools: ListedTool[],
  requested?: { name: string; arguments: Record<string, unknown> }[],
): PlannedCall[] {
  const prefix = `${server}__`;
  if (requested) {
    return requested.map((call) => ({ name: prefix + call.name, arguments: call.arguments }));
  }
  const own = tools.filter((tool) => tool.name.startsWith(prefix));
  return own.map((tool) => {
    if (tool.name === prefix + ECHO_TOOL) {
      const focal = own.find((other) => other !== tool);
      return { name: tool.name, arguments: { schema: focal?.inputSchema ?? {} } };
    }
    return { name: tool.name, arguments: exampleArguments(tool.inputSchema) };
  });
}

/** The required properties of an object schema, each with a plain value of its type. */
export function exampleArguments(
  schema: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const properties = (schema?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = Array.isArray(schema?.required) ? schema.required as string[] : [];
  const args: Record<string, unknown> = {};
  for (const name of required) args[name] = exampleValue(properties[name] ?? {});
  return args;
}

function exampleValue(schema: Record<string, unknown>): unknown {
  if ("const" in schema) return schema.const;
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return exampleArguments(schema);
    case "null":
      return null;
    default:
      return "test";
  }
}
