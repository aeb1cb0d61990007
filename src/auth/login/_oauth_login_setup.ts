/**
 * Private to src/auth: what both login flows (authorization code and device) do before they
 * talk to the user: probe the server, discover its authorization server, settle the scope,
 * and pick the OAuth client (pre-registered > client ID metadata document > stored
 * registration > new dynamic registration).
 */
import type { OAuthAuthConfig, RemoteServerConfig } from "../../config/types.ts";
import { readSecret } from "../../config/read_secret.ts";
import { tokenOverrideVariable } from "../../config/validate_config.ts";
import { AuthError, UnreadableTokenFileError, UsageError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../log.ts";
import { displayUrl } from "../../config/display_url.ts";
import {
  discoverOAuth,
  issuersMatch,
  type OAuthDiscovery,
  probeServer,
} from "../protocol/oauth_discovery.ts";
import type { PreRegisteredClient } from "./oauth_provider.ts";
import {
  checkDiscoveryUrl,
  discoveryPolicyFor,
  type DiscoveryUrlPolicy,
  guardDiscoveryFetch,
} from "../protocol/url_policy.ts";
import type { CredentialDocument, TokenStore, TokenTransaction } from "../store/token_store.ts";

/** Inputs shared by both login flows. */
export interface LoginInputs {
  server: RemoteServerConfig;
  store: TokenStore;
  logger: Logger;
  /**
   * For every OAuth request: checks each URL and redirect against the server's discovery URL
   * policy ({@link guardDiscoveryFetch}).
   */
  fetch: typeof fetch;
  /** The caller's fetch, unguarded: only for the probe of the configured server URL. */
  serverFetch: typeof fetch;
  /** What the server's discovery may lead to. */
  urlPolicy: DiscoveryUrlPolicy;
  signal?: AbortSignal;
  /** `--client-id`; overrides config `clientId`. */
  clientId?: string;
  /** `--client-secret`; overrides the configured secret. */
  clientSecret?: string;
  /** `--scope`; overrides config `scopes` and the server's hints. */
  scopes?: string[];
}

/** What both login functions take besides their own callbacks. */
export interface LoginOptionsBase
  extends Omit<LoginInputs, "logger" | "fetch" | "serverFetch" | "urlPolicy"> {
  /** Default: a silent logger. */
  logger?: Logger;
  /** Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/**
 * Fills in the defaults of `options` and runs `flow`. The flow takes the server's lock only
 * for its short steps (reading the stored document, the token exchange and the save), never
 * while it waits for the user: a gateway refreshing the same server meanwhile is not held up.
 */
export async function runLogin<T>(
  options: LoginOptionsBase,
  flow: (inputs: LoginInputs) => Promise<T>,
): Promise<T> {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const urlPolicy = discoveryPolicyFor(options.server);
  const inputs: LoginInputs = {
    server: options.server,
    store: options.store,
    logger: options.logger ?? silentLogger(),
    fetch: guardDiscoveryFetch(baseFetch, urlPolicy),
    serverFetch: baseFetch,
    urlPolicy,
    signal: options.signal,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    scopes: options.scopes,
  };
  return await flow(inputs);
}

/** What a flow starts from. */
export interface LoginSetup {
  /** The discovery to hand to the SDK and store (without `defaultEndpoints`). */
  discovery: OAuthDiscovery;
  /**
   * Set when the server publishes no OAuth metadata and its origin's default endpoints are
   * assumed: the metadata URLs tried, for {@link noOAuthLoginError}.
   */
  defaultEndpoints?: { metadataUrls: string[] };
  /** Space-separated scope to request, if any. */
  scope?: string;
  /** The stored document (or a fresh one), with a client that cannot be reused removed. */
  document: CredentialDocument;
  preRegistered?: PreRegisteredClient;
  /** Set only when configured, https, and advertised by the authorization server. */
  clientMetadataUrl?: string;
}

/**
 * Probes, discovers and loads through `tx` (a transaction of the server's credentials). `needs.pkce`: the
 * flow uses PKCE, so an authorization server that does not advertise S256 is refused.
 */
export async function prepareLogin(
  inputs: LoginInputs,
  tx: TokenTransaction,
  needs: { pkce: boolean },
): Promise<LoginSetup> {
  const { server, logger, signal } = inputs;
  const config = server.auth?.type === "oauth" ? server.auth : undefined;
  const challenge = await probeServer(server, { fetch: inputs.serverFetch, signal, logger });
  if (!config && !(challenge.status === 401 && challenge.bearer)) {
    const what = server.auth ? `its auth type is "${server.auth.type}"` : "it has no auth block";
    throw new AuthError(
      `Server "${server.name}" does not use OAuth: ${what} and it answered HTTP ${challenge.status} ` +
        `without a Bearer challenge; ${otherCredentials(server.name)}`,
      { server: server.name },
    );
  }
  const { defaultEndpoints, ...discovery } = await discoverOAuth(server.url, {
    server: server.name,
    fetch: inputs.fetch,
    signal,
    logger,
    resourceMetadataUrl: challenge.resourceMetadataUrl,
    allowInsecureHttp: server.allowInsecureHttp,
    requirePkce: needs.pkce,
  });
  const scopes = inputs.scopes?.length
    ? inputs.scopes
    : config?.scopes?.length
    ? config.scopes
    : challenge.scope
    ? challenge.scope.split(/\s+/).filter(Boolean)
    : discovery.resourceMetadata?.scopes_supported ?? [];
  const preRegistered = await resolvePreRegistered(inputs, config);
  const clientMetadataUrl = usableMetadataUrl(config, discovery, inputs.urlPolicy, logger);
  const document = (await loadReplaceable(tx, server.url, logger)) ?? {
    version: 1,
    server: server.name,
    serverUrl: server.url,
    updatedAt: 0,
  };
  const issuer = discovery.authorizationServerMetadata.issuer;
  const stored = document.client;
  if (stored) {
    const otherIssuer = !document.issuer || !issuersMatch(document.issuer, issuer);
    const replaced = preRegistered && stored.clientId !== preRegistered.clientId;
    if (otherIssuer || replaced) dropClient(document, logger, otherIssuer ? "issuer" : "client");
  }
  return {
    discovery,
    defaultEndpoints,
    scope: scopes.length ? scopes.join(" ") : undefined,
    document,
    preRegistered,
    clientMetadataUrl,
  };
}

/**
 * Checks the stored client can serve this flow (registered for `redirectUri` and the grant),
 * dropping it when not, and refuses early when no client can be had at all.
 * @throws {AuthError} when a new registration is needed and the server offers none.
 */
export function settleClient(
  setup: LoginSetup,
  inputs: LoginInputs,
  needs: { redirectUri?: string; grantType: string },
): "pre-registered" | "metadata-document" | "dynamic" {
  if (setup.preRegistered) return "pre-registered";
  if (setup.clientMetadataUrl) return "metadata-document";
  const stored = setup.document.client;
  if (stored && stored.registration !== "pre-registered") {
    const grants = stored.raw?.grant_types;
    const grantOk = !Array.isArray(grants) || grants.includes(needs.grantType);
    const redirectOk = !needs.redirectUri ||
      (stored.redirectUris ?? []).includes(needs.redirectUri);
    const metadataDoc = stored.registration === "metadata-document";
    if (metadataDoc || !grantOk || !redirectOk) {
      dropClient(setup.document, inputs.logger, metadataDoc ? "client" : "redirect");
    }
  }
  const kept = setup.document.client;
  if (kept) return kept.registration;
  if (setup.discovery.authorizationServerMetadata.registration_endpoint) return "dynamic";
  const issuer = displayUrl(setup.discovery.authorizationServerMetadata.issuer);
  throw new AuthError(
    `Authorization server "${issuer}" of server "${inputs.server.name}" does not support ` +
      `dynamic client registration; register a client there and pass its ID with --client-id`,
    {
      server: inputs.server.name,
      login: { server: inputs.server.name, options: "--client-id <id>" },
    },
  );
}

/** The stored document; an unreadable one is what this login replaces (so: none). */
async function loadReplaceable(
  tx: TokenTransaction,
  serverUrl: string,
  logger: Logger,
): Promise<CredentialDocument | undefined> {
  try {
    return await tx.load(serverUrl);
  } catch (error) {
    if (!(error instanceof UnreadableTokenFileError)) throw error;
    logger.warn(`Replacing the unreadable credential file of "${tx.server}"`, {
      file: error.file,
      reason: error.message,
    });
    return undefined;
  }
}

/** A stored pre-registered client (from an earlier `--client-id`) is reused when present. */
async function resolvePreRegistered(
  inputs: LoginInputs,
  config: OAuthAuthConfig | undefined,
): Promise<PreRegisteredClient | undefined> {
  if (inputs.clientSecret && !inputs.clientId) {
    throw new UsageError("--client-secret needs --client-id", {
      fix: `toolscript auth ${inputs.server.name} --help`,
    });
  }
  inputs.logger.redactor.addSecret(inputs.clientSecret);
  const clientId = inputs.clientId ?? config?.clientId;
  if (!clientId) return undefined;
  let clientSecret = inputs.clientSecret;
  if (!clientSecret && config?.clientSecret && clientId === config.clientId) {
    clientSecret = await readSecret(config.clientSecret, {
      what: `client secret of server "${inputs.server.name}"`,
      logger: inputs.logger,
      signal: inputs.signal,
    });
  }
  return { clientId, ...(clientSecret ? { clientSecret } : {}) };
}

function usableMetadataUrl(
  config: OAuthAuthConfig | undefined,
  discovery: OAuthDiscovery,
  urlPolicy: DiscoveryUrlPolicy,
  logger: Logger,
): string | undefined {
  const url = config?.clientMetadataUrl;
  if (!url) return undefined;
  const supported = (discovery.authorizationServerMetadata as Record<string, unknown>)
    .client_id_metadata_document_supported === true;
  const https = url.startsWith("https://") && new URL(url).pathname !== "/";
  if (supported && https) {
    checkDiscoveryUrl(url, "client metadata URL (clientMetadataUrl)", urlPolicy);
    return url;
  }
  logger.info("Not using the client ID metadata document", {
    reason: supported
      ? "the URL is not an https URL with a path"
      : "the server does not support it",
  });
  return undefined;
}

function dropClient(doc: CredentialDocument, logger: Logger, why: string): void {
  logger.info(`Not reusing the stored OAuth client of "${doc.server}"`, {
    reason: why === "issuer"
      ? "it belongs to another authorization server"
      : why === "redirect"
      ? "it is registered for another redirect URI or grant"
      : "another client is configured",
  });
  delete doc.client;
  delete doc.tokens;
}

/** HTTP statuses of an endpoint that is not there at all. */
const MISSING_ENDPOINT = new Set([404, 405, 501]);

/**
 * The error for a server that offers no OAuth login at all: it publishes no metadata, so
 * discovery assumed the 2025-03-26 default endpoints at its origin, and one of them answered
 * `status` as missing (404, 405, 501). It names the metadata URLs tried and the other ways to
 * give the server credentials. Undefined when that is not the case.
 */
export function noOAuthLoginError(
  setup: LoginSetup,
  server: RemoteServerConfig,
  status: number | undefined,
): AuthError | undefined {
  if (!setup.defaultEndpoints || status === undefined || !MISSING_ENDPOINT.has(status)) {
    return undefined;
  }
  const origin = new URL(server.url).origin;
  const tried = setup.defaultEndpoints.metadataUrls.map((url) => `"${url}"`).join(", ");
  return new AuthError(
    `Server "${server.name}" offers no OAuth login: it publishes no OAuth metadata ` +
      `(tried ${tried || "none"}) and its default endpoints /authorize, /token and /register ` +
      `at "${origin}" are missing (HTTP ${status}); ${otherCredentials(server.name)}`,
    { server: server.name },
  );
}

/** Where else credentials for `server` can come from (no single command fixes this). */
function otherCredentials(server: string): string {
  return `set ${tokenOverrideVariable(server)} to a token for it, or configure its ` +
    `credentials in an "auth" block of the config (bearer, api_key, basic, client_credentials)`;
}
