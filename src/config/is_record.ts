/**
 * The one check for "a JSON object" (not null, not an array) used when reading untrusted JSON:
 * config files, credential files, keys, and what upstream servers send.
 */

/**
 * True when `value` is a plain object as `JSON.parse` makes them: not null, not an array.
 *
 * @example
 * ```ts
 * import { isRecord } from "./is_record.ts";
 * isRecord(JSON.parse('{"a": 1}')); // true
 * isRecord(JSON.parse("[1]")); // false
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
