/**
 * The on-disk form of credential documents, private to the file store: how a server name
 * becomes a file name, and how file bytes become a checked {@link CredentialDocument}.
 */
import { isRecord } from "../config/is_record.ts";
import { UnreadableTokenFileError } from "../errors.ts";
import type { CredentialDocument } from "./token_store.ts";

/** Longest encoded name; leaves room for a suffix within a 255-byte file name. */
const MAX_ENCODED_NAME = 200;

/** Percent-encodes every UTF-8 byte outside `a-z 0-9 _ -` (hex digits upper case). */
export function encodeServerName(server: string): string {
  if (server.length === 0 || !server.isWellFormed()) {
    throw new RangeError(`Invalid server name ${JSON.stringify(server)}`);
  }
  let encoded = "";
  for (const byte of new TextEncoder().encode(server)) {
    const char = String.fromCharCode(byte);
    encoded += /[a-z0-9_-]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (encoded.length > MAX_ENCODED_NAME) {
    throw new RangeError(`Server name is too long: ${server.length} characters`);
  }
  return encoded;
}

/** The server name a file stem encodes, or undefined when it is not one of our encodings. */
export function decodeServerName(stem: string): string | undefined {
  try {
    const name = decodeURIComponent(stem);
    return encodeServerName(name) === stem ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Parses and shape-checks a stored document; errors name the file, never its content. */
export function parseDocument(path: string, server: string, bytes: Uint8Array): CredentialDocument {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    // No `cause`: a JSON.parse error quotes the text it failed on.
    throw new UnreadableTokenFileError(path, server, "it is not valid JSON");
  }
  if (!isRecord(value)) throw new UnreadableTokenFileError(path, server, "it is not a JSON object");
  if (value.version !== 1) {
    const reason = typeof value.version === "number"
      ? `unknown format version ${value.version}`
      : "it has no format version";
    throw new UnreadableTokenFileError(path, server, reason);
  }
  const problem = shapeProblem(value, server);
  if (problem) throw new UnreadableTokenFileError(path, server, problem);
  return value as unknown as CredentialDocument;
}

function shapeProblem(doc: Record<string, unknown>, server: string): string | undefined {
  if (doc.server !== server) return "it belongs to another server name";
  if (typeof doc.serverUrl !== "string") return `"serverUrl" is not a string`;
  if (typeof doc.updatedAt !== "number") return `"updatedAt" is not a number`;
  for (const key of ["client", "tokens", "discovery"]) {
    if (doc[key] !== undefined && !isRecord(doc[key])) return `"${key}" is not an object`;
  }
  const { tokens, client } = doc as Record<string, Record<string, unknown> | undefined>;
  if (tokens && typeof tokens.accessToken !== "string") return `"tokens.accessToken" is missing`;
  if (client && typeof client.clientId !== "string") return `"client.clientId" is missing`;
  return undefined;
}
