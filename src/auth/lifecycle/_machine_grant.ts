/**
 * Private to src/auth: the seam between {@link ClientCredentialsProvider}'s token lifecycle
 * (cache, single flight, proactive refresh, backoff) and a grant that contributes only how the
 * next token request looks. client_credentials and private_key_jwt are the default grant
 * ({@link ClientAuthentication}); jwt_bearer and enterprise_managed bring their own.
 */
import * as oauth from "oauth4webapi";
import type { SecretSource } from "../../config/types.ts";
import { isLoopbackHost } from "../../config/loopback.ts";
import { readSecret } from "../../config/read_secret.ts";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { ClientAuthentication, type PreparedClient } from "../protocol/client_authentication.ts";
import { KnownTokenEndpoint } from "../protocol/token_endpoint.ts";

/** The next token request of a grant: its client, grant type and the grant's own parameters. */
export interface PreparedGrant extends PreparedClient {
  /** An extension grant type URI; undefined: client_credentials. */
  grantType?: string;
  /** The grant's own parameters (e.g. `assertion`), added to scope, resource and audience. */
  parameters?: Record<string, string>;
  /** The setting that holds the grant's input, named when the server answers `invalid_grant`. */
  grantInput?: string;
  /** The grant's name in messages, e.g. `jwt-bearer`. */
  grant?: string;
}

/** How a machine token request is made, one call per request (secrets are re-read). */
export interface MachineGrant {
  /**
   * Reads the current secrets and inputs and returns the next request.
   * @throws {ConfigError} when a secret or input cannot be read or used.
   * @throws {AuthError} when a step before the token request fails (e.g. a token exchange).
   */
  prepare(signal: AbortSignal): Promise<PreparedGrant>;
}

/** Options of {@link TokenEndpointClient}. */
export interface TokenEndpointClientOptions {
  logger: Logger;
  fetch: typeof fetch;
  /** The server's `allowInsecureHttp`. */
  allowInsecureHttp: boolean;
}

/** A client at one token endpoint: an ID and an optional secret (none: a public client). */
export interface TokenEndpointClientConfig {
  tokenUrl: string;
  clientId?: string;
  clientSecret?: SecretSource;
}

/**
 * The client half of an extension grant's token request: with a secret it is exactly the
 * client_credentials client ({@link ClientAuthentication}); without one it sends `client_id`
 * (when configured) and no authentication, to the endpoint its metadata describes.
 */
export class TokenEndpointClient {
  readonly #config: TokenEndpointClientConfig;
  readonly #options: TokenEndpointClientOptions;
  readonly #secretClient?: ClientAuthentication;
  readonly #endpoint: KnownTokenEndpoint;

  constructor(
    server: string,
    config: TokenEndpointClientConfig,
    options: TokenEndpointClientOptions,
  ) {
    this.#config = config;
    this.#options = options;
    const endpointOptions = {
      ...options,
      insecure: isInsecureAllowed(config.tokenUrl, options.allowInsecureHttp),
    };
    this.#endpoint = new KnownTokenEndpoint(server, config.tokenUrl, endpointOptions);
    if (config.clientSecret && config.clientId !== undefined) {
      this.#secretClient = new ClientAuthentication(server, {
        type: "client_credentials",
        tokenUrl: config.tokenUrl,
        clientId: { value: config.clientId },
        clientSecret: config.clientSecret,
        refreshAt: 0.8,
      }, endpointOptions);
    }
  }

  /** True when plain `http:` may be used for `url`: loopback, or `allowInsecureHttp`. */
  get insecure(): boolean {
    return isInsecureAllowed(this.#config.tokenUrl, this.#options.allowInsecureHttp);
  }

  /**
   * The endpoint and client authentication of the next request.
   * @throws {ConfigError} when a secret cannot be read or the URL is plain http without leave.
   */
  async prepare(signal: AbortSignal): Promise<PreparedClient> {
    if (this.#secretClient) return await this.#secretClient.prepare(signal);
    const endpoint = await this.#endpoint.get(signal);
    const clientId = this.#config.clientId;
    return {
      as: endpoint.as,
      // oauth4webapi needs a client_id; without one configured it is never sent.
      client: { client_id: clientId ?? "unidentified-client" },
      // No client authentication; `client_id` only when there is one (RFC 7523 §3.1).
      clientAuth: clientId === undefined ? () => {} : oauth.None(),
      credentials: clientId === undefined ? `"tokenUrl"` : `"clientId"`,
    };
  }
}

/** True when a plain `http:` `url` may be used: it is loopback, or `allowInsecureHttp` is set. */
export function isInsecureAllowed(url: string, allowInsecureHttp: boolean): boolean {
  const parsed = new URL(url);
  return parsed.protocol === "http:" && (allowInsecureHttp || isLoopbackHost(parsed.hostname));
}

/** The name of the setting a secret came from: `assertionFile`, `idTokenEnv`, … */
export function settingName(base: string, source: SecretSource): string {
  if (source.file !== undefined) return `"${base}File"`;
  if (source.env !== undefined) return `"${base}Env"`;
  return `"${base}"`;
}

/** Options of {@link readJwtInput}. */
export interface ReadJwtInputOptions {
  /** e.g. `assertion`: the setting's base name. */
  setting: string;
  server: string;
  logger: Logger;
  now: () => number;
  warned: Set<string>;
  signal: AbortSignal;
}

/**
 * Reads a JWT-valued secret (an assertion, an ID token) and refuses one whose `exp` has
 * passed, before it is sent anywhere. A value that is not a JWT is returned as read.
 * @throws {ConfigError} naming the server and the setting, never the value.
 */
export async function readJwtInput(
  source: SecretSource,
  options: ReadJwtInputOptions,
): Promise<string> {
  const setting = settingName(options.setting, source);
  const value = await readSecret(source, {
    what: `${setting} of server "${options.server}"`,
    logger: options.logger,
    redactor: options.logger.redactor,
    warned: options.warned,
    signal: options.signal,
  });
  const exp = jwtExpiry(value);
  if (exp !== undefined && exp * 1000 <= options.now()) {
    throw new ConfigError(
      `The JWT in ${setting} of server "${options.server}" expired at ` +
        `${new Date(exp * 1000).toISOString()}; renew it (a platform token file is rotated by ` +
        "the platform: check that it still mounts a fresh one)",
    );
  }
  return value;
}

/** The `exp` claim of a compact JWS, or undefined when `text` is not one or has none. */
function jwtExpiry(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const json = new TextDecoder().decode(
      Uint8Array.from(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    );
    const exp = (JSON.parse(json) as Record<string, unknown>)?.exp;
    return typeof exp === "number" ? exp : undefined;
  } catch {
    return undefined;
  }
}
