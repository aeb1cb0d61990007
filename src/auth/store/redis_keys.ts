/**
 * Where the Redis store keeps what: one scope per server and caller (`g:<server>` for the
 * gateway's own, `c:<caller>:<server>` for a caller's), its keys hash-tagged on the scope so a
 * cluster keeps them in one slot, and one channel announcing writes.
 */
import { decodeServerName, encodeServerName } from "../../config/server_file_name.ts";

/** The channel every write is announced on; the message is the written document's scope. */
export const CHANGES_CHANNEL = "toolscript:changes";

/** The scope prefix of a caller's documents (or the gateway's own, for undefined). */
export function scopePrefix(caller: string | undefined): string {
  return caller === undefined ? "g:" : `c:${encodeServerName(caller)}:`;
}

/** The scope of one server's document of `caller` (or the gateway's). */
export function scopeOf(server: string, caller: string | undefined): string {
  return scopePrefix(caller) + encodeServerName(server);
}

/** The keys of a scope: the document (a hash), the lock, and the fencing counter. */
export function keysOf(scope: string): { doc: string; lock: string; fence: string } {
  return {
    doc: `toolscript:{${scope}}:doc`,
    lock: `toolscript:{${scope}}:lock`,
    fence: `toolscript:{${scope}}:fence`,
  };
}

/** The `SCAN MATCH` pattern of the documents of scopes starting with `prefix`. */
export function docPattern(prefix: string): string {
  return `toolscript:{${prefix}*}:doc`;
}

/** The scope of a document key, or undefined for another key. */
export function scopeOfDocKey(key: string): string | undefined {
  return /^toolscript:\{(.+)\}:doc$/.exec(key)?.[1];
}

/** The server and caller of a scope, or undefined when it is not one. */
export function parseScope(scope: string): { server: string; caller?: string } | undefined {
  const gateway = /^g:([^:]+)$/.exec(scope);
  if (gateway) {
    const server = decodeServerName(gateway[1]);
    return server === undefined ? undefined : { server };
  }
  const caller = /^c:([^:]+):([^:]+)$/.exec(scope);
  if (!caller) return undefined;
  const name = decodeServerName(caller[1]);
  const server = decodeServerName(caller[2]);
  return name === undefined || server === undefined ? undefined : { server, caller: name };
}
