/**
 * Enterprise-managed authorization (SEP-990): the `enterprise_managed` auth type. The user's
 * ID token from the enterprise identity provider is exchanged at the IdP (RFC 8693 token
 * exchange) for an identity assertion authorization grant (ID-JAG) addressed to the MCP
 * server's authorization server, which is then exchanged there with the RFC 7523 jwt-bearer
 * grant for the server's access token. The IdP decides which MCP servers a user may reach.
 * Both inputs are read again for every token request; the token lifecycle is
 * {@link ClientCredentialsProvider}'s.
 */
import * as oauth from "oauth4webapi";
import type { EnterpriseManagedAuthConfig } from "../../config/types.ts";
import { readSecret } from "../../config/read_secret.ts";
import { AuthError, ConfigError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { clientSecretBasic } from "../protocol/client_authentication.ts";
import {
  isInsecureAllowed,
  type MachineGrant,
  type PreparedGrant,
  readJwtInput,
  settingName,
  TokenEndpointClient,
} from "./_machine_grant.ts";
import { JWT_BEARER_GRANT_TYPE } from "./jwt_bearer_grant.ts";

const TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
const ID_JAG_TYPE = "urn:ietf:params:oauth:token-type:id-jag";

/** Options of {@link IdJagGrant}. */
export interface IdJagGrantOptions {
  logger: Logger;
  /** The server's `url`: the exchange's `resource` unless the config names one. */
  serverUrl: string;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms; an ID token whose `exp` is past is refused before sending. Default `Date.now`. */
  now?: () => number;
  /** The server's `allowInsecureHttp`. */
  allowInsecureHttp?: boolean;
  /** Per-request timeout of the token exchange; default 30 000 ms. */
  timeoutMs?: number;
}

/**
 * The ID-JAG grant of one server, for {@link ClientCredentialsProvider}'s `grant` option.
 *
 * @example
 * ```ts
 * import { ClientCredentialsProvider } from "./client_credentials_provider.ts";
 * import { IdJagGrant } from "./id_jag_grant.ts";
 * import { Logger } from "../../log.ts";
 * const logger = new Logger();
 * const auth = {
 *   type: "enterprise_managed" as const,
 *   tokenUrl: "https://auth.mcp.example/token",
 *   clientId: "toolscript",
 *   idpTokenUrl: "https://idp.corp.example/oauth2/token",
 *   idpClientId: "toolscript-at-idp",
 *   idToken: { file: "/home/me/.cache/idp/id_token" },
 *   refreshAt: 0.8,
 * };
 * await using provider = new ClientCredentialsProvider("crm", auth, {
 *   logger,
 *   grant: new IdJagGrant("crm", auth, { logger, serverUrl: "https://crm.mcp.example/mcp" }),
 * });
 * ```
 */
export class IdJagGrant implements MachineGrant {
  readonly #server: string;
  readonly #auth: EnterpriseManagedAuthConfig;
  readonly #options: IdJagGrantOptions;
  readonly #fetch: typeof fetch;
  readonly #client: TokenEndpointClient;
  readonly #warned = new Set<string>();

  constructor(server: string, auth: EnterpriseManagedAuthConfig, options: IdJagGrantOptions) {
    this.#server = server;
    this.#auth = auth;
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#client = new TokenEndpointClient(server, auth, {
      logger: options.logger,
      fetch: this.#fetch,
      allowInsecureHttp: options.allowInsecureHttp ?? false,
    });
  }

  /**
   * Exchanges the current ID token for an ID-JAG and returns the jwt-bearer request with it.
   * @throws {ConfigError} when the ID token or a secret cannot be read, or has expired.
   * @throws {AuthError} when the identity provider refuses the exchange or cannot be reached.
   */
  async prepare(signal: AbortSignal): Promise<PreparedGrant> {
    const client = await this.#client.prepare(signal);
    const idJag = await this.#exchange(client.as.issuer, signal);
    return {
      ...client,
      grantType: JWT_BEARER_GRANT_TYPE,
      parameters: { assertion: idJag },
      grantInput: settingName("idToken", this.#auth.idToken),
      grant: "jwt-bearer",
    };
  }

  async #exchange(issuer: string, signal: AbortSignal): Promise<string> {
    const auth = this.#auth;
    const server = this.#server;
    const logger = this.#options.logger;
    const url = new URL(auth.idpTokenUrl);
    const insecure = isInsecureAllowed(auth.idpTokenUrl, this.#options.allowInsecureHttp ?? false);
    if (url.protocol !== "https:" && !insecure) {
      throw new ConfigError(
        `Refusing "idpTokenUrl" of server "${server}": use https, or set ` +
          `"allowInsecureHttp": true on this server`,
      );
    }
    const idToken = await readJwtInput(auth.idToken, {
      setting: "idToken",
      server,
      logger,
      now: this.#options.now ?? Date.now,
      warned: this.#warned,
      signal,
    });
    const idpSecret = auth.idpClientSecret
      ? await readSecret(auth.idpClientSecret, {
        what: `${settingName("idpClientSecret", auth.idpClientSecret)} of server "${server}"`,
        logger,
        warned: this.#warned,
        signal,
      })
      : undefined;
    const idp: oauth.AuthorizationServer = { issuer: url.origin, token_endpoint: url.href };
    const client: oauth.Client = { client_id: auth.idpClientId };
    const parameters = new URLSearchParams({
      subject_token: idToken,
      subject_token_type: ID_TOKEN_TYPE,
      requested_token_type: ID_JAG_TYPE,
      audience: auth.audience ?? issuer,
      resource: auth.resource ?? this.#options.serverUrl,
    });
    if (auth.scopes?.length) parameters.set("scope", auth.scopes.join(" "));
    const fix = `check ${settingName("idToken", auth.idToken)} and "idpClientId"`;
    logger.debug(`Exchanging the ID token of server "${server}" for an ID-JAG`, {
      idpTokenUrl: url.href,
      audience: parameters.get("audience"),
      resource: parameters.get("resource"),
    });
    try {
      const response = await oauth.genericTokenEndpointRequest(
        idp,
        client,
        idpSecret === undefined ? oauth.None() : clientSecretBasic(idpSecret),
        TOKEN_EXCHANGE_GRANT_TYPE,
        parameters,
        {
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs ?? 30_000)]),
          [oauth.customFetch]: this.#fetch,
          [oauth.allowInsecureRequests]: insecure,
        },
      );
      if (response.status === 429 || response.status >= 500) {
        await response.body?.cancel();
        throw new AuthError(
          `Cannot get a token for server "${server}": the identity provider answered ` +
            `${response.status} to the token exchange; this is probably temporary, try again later`,
          { server, temporary: true },
        );
      }
      // An ID-JAG is not an access token: its token_type is "N_A" (RFC 8693 §2.2.1).
      const result = await oauth.processGenericTokenEndpointResponse(idp, client, response, {
        recognizedTokenTypes: { n_a: () => {} },
      });
      logger.redactor.addSecret(result.access_token);
      const issued = (result as Record<string, unknown>).issued_token_type;
      if (issued !== ID_JAG_TYPE) {
        throw new AuthError(
          `Cannot get a token for server "${server}": the identity provider issued ` +
            `${JSON.stringify(String(issued).slice(0, 80))} instead of an ID-JAG`,
          { server },
        );
      }
      return result.access_token;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof AuthError) throw error;
      if (error instanceof oauth.ResponseBodyError) {
        const code = JSON.stringify(logger.redactor.redactText(error.error).slice(0, 100));
        throw new AuthError(
          `Cannot get a token for server "${server}": the identity provider refused the token ` +
            `exchange (${error.status} ${code}); ${fix}`,
          { server },
        );
      }
      const temporary = error instanceof TypeError &&
        !(error instanceof oauth.OperationProcessingError);
      throw new AuthError(
        `Cannot get a token for server "${server}": ${
          temporary
            ? "cannot reach the identity provider; this is probably temporary, try again later"
            : `invalid token exchange response (${
              JSON.stringify(logger.redactor.redactText((error as Error)?.message ?? ""))
            })`
        }`,
        { server, temporary, cause: error },
      );
    }
  }
}
