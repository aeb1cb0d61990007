/**
 * Masks configured secret values in what an upstream sends back (tool results, prompt messages,
 * resource contents, error messages), so an upstream that echoes the credential it was given
 * does not hand it to the gateway's clients.
 */
import type { Redactor } from "../log.ts";

/**
 * Replaces every secret `redactor` knows (and its JSON-escaped forms) in every string of
 * `value`: object keys and values, array items, nested to any depth. Objects and arrays are
 * changed in place (they are the upstream's freshly parsed message, owned by the caller) and
 * `value` is returned; a string `value` is returned masked. Nothing else is touched: unlike
 * {@link Redactor.redactText}, `Bearer …` or `token=…` in legitimate content stays as is.
 * Returns at once when no secret is registered.
 *
 * @example
 * ```ts
 * import { Redactor } from "../log.ts";
 * import { maskSecrets } from "./mask_secrets.ts";
 * const redactor = new Redactor();
 * redactor.addSecret("s3cr3t-value");
 * maskSecrets({ content: [{ type: "text", text: "got s3cr3t-value" }] }, redactor);
 * // { content: [{ type: "text", text: "got [redacted:…]" }] }
 * ```
 */
export function maskSecrets<T>(value: T, redactor: Redactor): T {
  if (!redactor.hasSecrets) return value;
  if (typeof value === "string") return redactor.maskSecrets(value) as T;
  // An explicit stack instead of recursion: an upstream may nest a result arbitrarily deep.
  const stack: unknown[] = [value];
  const seen = new WeakSet<object>();
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node === null || typeof node !== "object" || seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item = node[i];
        if (typeof item === "string") node[i] = redactor.maskSecrets(item);
        else if (item !== null && typeof item === "object") stack.push(item);
      }
      continue;
    }
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      const maskedKey = redactor.maskSecrets(key);
      if (maskedKey !== key) {
        delete record[key];
        record[maskedKey] = item;
      }
      if (typeof item === "string") record[maskedKey] = redactor.maskSecrets(item);
      else if (item !== null && typeof item === "object") stack.push(item);
    }
  }
  return value;
}
