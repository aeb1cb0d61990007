/**
 * The stored form of credential documents, private to the stores (file and Redis): how stored
 * bytes become a checked {@link CredentialDocument}, the checks before a document is saved, and
 * which stored document a server URL may use (the file name is `src/config/server_file_name.ts`'s).
 */
import { isRecord } from "../../config/is_record.ts";
import { UnreadableTokenFileError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { CredentialDocument, TokenTransaction } from "./token_store.ts";

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

/**
 * Refuses a document no store may write: an unknown version or no `serverUrl`.
 * @throws {RangeError | TypeError} naming the problem.
 */
export function checkDocument(doc: CredentialDocument): void {
  if (doc.version !== 1) throw new RangeError(`Unsupported document version ${doc.version}`);
  if (typeof doc.serverUrl !== "string") throw new TypeError("serverUrl must be a string");
}

/** What a store does for one server while it holds the server's lock. */
export interface LockedDocument {
  load(serverUrl: string): Promise<CredentialDocument | undefined>;
  /** Writes a document {@link checkTransactionSave} has accepted. */
  save(doc: CredentialDocument): Promise<void>;
  delete(): Promise<boolean>;
}

/**
 * Runs `fn` with the {@link TokenTransaction} of `server` over `locked`: a call through it
 * after `fn` settles throws, and a document for another server is refused. The caller holds
 * the lock around this call.
 */
export async function runTransaction<T>(
  server: string,
  locked: LockedDocument,
  fn: (tx: TokenTransaction) => Promise<T>,
): Promise<T> {
  let open = true;
  const usable = () => {
    if (!open) throw new Error(`The transaction of "${server}" has ended`);
  };
  const tx: TokenTransaction = {
    server,
    load: (serverUrl) => {
      usable();
      return locked.load(serverUrl);
    },
    save: (doc) => {
      usable();
      checkTransactionSave(server, doc);
      return locked.save(doc);
    },
    delete: () => {
      usable();
      return locked.delete();
    },
  };
  try {
    return await fn(tx);
  } finally {
    open = false;
  }
}

/**
 * Refuses what a transaction of `server` may not save: another server's document, or one
 * {@link checkDocument} refuses.
 */
function checkTransactionSave(server: string, doc: CredentialDocument): void {
  if (doc.server !== server) {
    throw new RangeError(`A transaction of "${server}" cannot save "${doc.server}"`);
  }
  checkDocument(doc);
}

/**
 * `doc` when it was saved for `serverUrl` (compared as parsed URLs), else undefined: stored
 * credentials are never sent to a server URL they were not obtained for.
 */
export function documentForUrl(
  doc: CredentialDocument,
  serverUrl: string,
  logger: Logger,
): CredentialDocument | undefined {
  if (normalizeUrl(doc.serverUrl) === normalizeUrl(serverUrl)) return doc;
  logger.debug("Ignoring stored credentials saved for a different server URL", {
    server: doc.server,
  });
  return undefined;
}

function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
