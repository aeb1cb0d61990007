/**
 * Workload identity federation: the `jwt_bearer` auth type. An assertion issued by the
 * platform (a Kubernetes projected service-account token, a CI job's OIDC token) is exchanged
 * at the token endpoint with the RFC 7523 jwt-bearer grant. The assertion is read again for
 * every token request, as projected tokens rotate; the token lifecycle (cache, single flight,
 * proactive refresh) is {@link ClientCredentialsProvider}'s.
 */
import type { JwtBearerAuthConfig } from "../../config/types.ts";
import type { Logger } from "../../log.ts";
import {
  type MachineGrant,
  type PreparedGrant,
  readJwtInput,
  settingName,
  TokenEndpointClient,
} from "./_machine_grant.ts";

/** The RFC 7523 §2.1 grant type. */
export const JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** Options of {@link JwtBearerGrant}. */
export interface JwtBearerGrantOptions {
  logger: Logger;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms; an assertion whose `exp` is past is refused before sending. Default `Date.now`. */
  now?: () => number;
  /** The server's `allowInsecureHttp`. */
  allowInsecureHttp?: boolean;
}

/**
 * The jwt-bearer grant of one server, for {@link ClientCredentialsProvider}'s `grant` option.
 *
 * @example
 * ```ts
 * import { ClientCredentialsProvider } from "./client_credentials_provider.ts";
 * import { JwtBearerGrant } from "./jwt_bearer_grant.ts";
 * import { Logger } from "../../log.ts";
 * const logger = new Logger();
 * const auth = {
 *   type: "jwt_bearer" as const,
 *   tokenUrl: "https://auth.example/oauth/token",
 *   assertion: { file: "/var/run/secrets/tokens/mcp" },
 *   refreshAt: 0.8,
 * };
 * await using provider = new ClientCredentialsProvider("internal", auth, {
 *   logger,
 *   grant: new JwtBearerGrant("internal", auth, { logger }),
 * });
 * ```
 */
export class JwtBearerGrant implements MachineGrant {
  readonly #server: string;
  readonly #auth: JwtBearerAuthConfig;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #client: TokenEndpointClient;
  readonly #warned = new Set<string>();

  constructor(server: string, auth: JwtBearerAuthConfig, options: JwtBearerGrantOptions) {
    this.#server = server;
    this.#auth = auth;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#client = new TokenEndpointClient(server, auth, {
      logger: options.logger,
      fetch: options.fetch ?? globalThis.fetch,
      allowInsecureHttp: options.allowInsecureHttp ?? false,
    });
  }

  /**
   * Reads the assertion (and client secret) and returns the next token request.
   * @throws {ConfigError} when the assertion is missing, empty, unreadable or expired.
   */
  async prepare(signal: AbortSignal): Promise<PreparedGrant> {
    const client = await this.#client.prepare(signal);
    const assertion = await readJwtInput(this.#auth.assertion, {
      setting: "assertion",
      server: this.#server,
      logger: this.#logger,
      now: this.#now,
      warned: this.#warned,
      signal,
    });
    return {
      ...client,
      grantType: JWT_BEARER_GRANT_TYPE,
      parameters: { assertion },
      grantInput: settingName("assertion", this.#auth.assertion),
      grant: "jwt-bearer",
    };
  }
}
