/**
 * What toolscript keeps about each upstream server's OAuth credentials, and the
 * {@link TokenStore} interface that keeps it. {@link FileTokenStore} (in
 * `file_token_store.ts`) is the production store.
 */

import type { StoredDpopKey } from "../protocol/dpop.ts";

/** A token set obtained from an authorization server. */
export interface StoredTokens {
  /** The access token; secret. */
  accessToken: string;
  /** `Bearer` (default) or `DPoP`. */
  tokenType?: string;
  /** The refresh token, when the authorization server issued one; secret. */
  refreshToken?: string;
  /** Absolute expiry of the access token, epoch ms. */
  expiresAt?: number;
  /** When the token set was obtained, epoch ms; with `expiresAt` it gives the lifetime. */
  obtainedAt?: number;
  /** Space-separated scopes granted. */
  scope?: string;
  /** The OpenID Connect ID token, when one was issued; secret. */
  idToken?: string;
}

/** The OAuth client toolscript uses with one server's authorization server. */
export interface StoredClient {
  /** The OAuth `client_id`. */
  clientId: string;
  /** Secret of a confidential client; secret. */
  clientSecret?: string;
  /** Expiry of `clientSecret`, epoch ms (RFC 7591 `client_secret_expires_at`, converted). */
  clientSecretExpiresAt?: number;
  /** How the client came to exist. */
  registration: "pre-registered" | "metadata-document" | "dynamic";
  /** Redirect URIs registered for the client. */
  redirectUris?: string[];
  /** How the client authenticates at the token endpoint (`none`, `client_secret_basic`, …). */
  tokenEndpointAuthMethod?: string;
  /** The full dynamic client registration response. */
  raw?: Record<string, unknown>;
}

/** Everything stored for one server: one document, one file. */
export interface CredentialDocument {
  /** Format version; a store refuses documents of a version it does not know. */
  version: 1;
  /** The server's name in config. */
  server: string;
  /** The server URL these credentials belong to; a different URL never reuses them. */
  serverUrl: string;
  /** The authorization server's issuer identifier. */
  issuer?: string;
  /** The protected resource identifier (RFC 8707 `resource`). */
  resource?: string;
  /** The OAuth client in use with this server's authorization server. */
  client?: StoredClient;
  /** The current token set. */
  tokens?: StoredTokens;
  /**
   * Why the last token set was dropped (e.g. the refresh token was rejected), kept until the
   * next login so every process can say why a login is needed, not just that one is.
   */
  tokensDropped?: { reason: string; at: number };
  /** Cached authorization server and protected resource metadata. */
  discovery?: Record<string, unknown>;
  /** The key DPoP-bound tokens are bound to (its private JWK is a secret); see `dpop.ts`. */
  dpopKey?: StoredDpopKey;
  /** When the document was last saved, epoch ms; set by the store on save. */
  updatedAt: number;
}

/**
 * One server's stored document while the server's cross-process lock is held: what a
 * {@link TokenStore.transaction} hands its function. Reads and writes through it need no
 * further locking; it is usable only until the function settles.
 */
export interface TokenTransaction {
  /** The server whose lock is held. */
  readonly server: string;
  /** Same as {@link TokenStore.load} for this server. */
  load(serverUrl: string): Promise<CredentialDocument | undefined>;
  /**
   * Same as {@link TokenStore.save}; `doc.server` must be this transaction's server.
   * @throws {RangeError} for another server's document.
   */
  save(doc: CredentialDocument): Promise<void>;
  /** Same as {@link TokenStore.delete} for this server; true when there was a document. */
  delete(): Promise<boolean>;
}

/**
 * Keeps one {@link CredentialDocument} per server, safely shared between toolscript
 * processes (a gateway and a `toolscript auth` running at the same time).
 *
 * Reads never see a half-written document. A process that obtains or refreshes tokens
 * does it inside {@link TokenStore.transaction} and re-reads the document there, because
 * another process may have refreshed while it waited.
 */
export interface TokenStore {
  /**
   * The stored document of `server`, or undefined when there is none or when it belongs
   * to a different `serverUrl` (a changed URL never reuses credentials).
   * @throws {InsecureTokenFileError} when the stored document is unsafe (a link, another owner).
   * @throws {UnreadableTokenFileError} when it is unreadable or of an unknown version.
   */
  load(
    server: string,
    serverUrl: string,
    signal?: AbortSignal,
  ): Promise<CredentialDocument | undefined>;
  /**
   * Replaces the document of `doc.server` atomically (readers see the old or the new one), in
   * a transaction of its own.
   */
  save(doc: CredentialDocument, signal?: AbortSignal): Promise<void>;
  /** Deletes the document of `server`, in a transaction of its own; true when there was one. */
  delete(server: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Runs `fn` while holding the cross-process lock for `server`, waiting (bounded by `signal`)
   * for other holders; `fn` reads and writes through the {@link TokenTransaction} it is given.
   * Not re-entrant: inside `fn`, the store's own `save`/`delete`/`transaction` for the same
   * server wait for the lock `fn` holds. Re-read with `tx.load`: what was read before may be
   * stale.
   * @throws the signal's reason, unchanged, when `signal` aborts while waiting.
   */
  transaction<T>(
    server: string,
    fn: (tx: TokenTransaction) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
  /**
   * A cheap change token for the stored document of `server`, used to notice writes by
   * other processes; undefined when there is no document. Equal tokens mean equal content.
   */
  version(server: string): Promise<string | undefined>;
  /** Names of the servers with a stored document, sorted. */
  list(): Promise<string[]>;
  /**
   * The same store holding `caller`'s documents (`gateway.callers`), kept apart from the
   * gateway's own and every other caller's: the file store's `credentials/callers/<caller>/`,
   * the Redis store's key scope of the caller. Undefined `caller`: the gateway's own documents.
   * A view of a view is a view of the same store (never nested).
   */
  forCaller(caller: string | undefined): TokenStore;
  /**
   * Calls `onChange` with a server name soon after a document of this view is written by any
   * process, and with undefined when changes may have been missed (a (re)connection, a watch
   * that could not start), until `signal` aborts. Best effort: it only hastens what polling
   * {@link TokenStore.version} finds; the file store watches its directory, the Redis store
   * subscribes to its change channel.
   */
  watch(onChange: (server: string | undefined) => void, signal: AbortSignal): void;
}
