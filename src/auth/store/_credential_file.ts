/**
 * The on-disk form of credential documents, private to the file store: how file bytes become
 * a checked {@link CredentialDocument} (the file name is `src/config/server_file_name.ts`'s).
 */
import { isRecord } from "../../config/is_record.ts";
import { UnreadableTokenFileError } from "../../errors.ts";
import type { CredentialDocument } from "./token_store.ts";

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
