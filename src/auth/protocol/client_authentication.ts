/**
 * Private to src/auth: everything a client_credentials token request needs besides its
 * parameters — where to send it (discovered once) and how the client proves who it is. Secrets
 * and the private key file are read again for every request, so rotated files are picked up.
 */
import * as oauth from "oauth4webapi";
import type {
  ClientCredentialsAuthConfig,
  PrivateKeyJwtAuthConfig,
  SecretSource,
} from "../../config/types.ts";
import { readSecret } from "../../config/read_secret.ts";
import type { Logger } from "../../log.ts";
import { importSigningKey, type SigningKey } from "./_private_key.ts";
import { KnownTokenEndpoint } from "./token_endpoint.ts";

/** A token request's target and client authentication. */
export interface PreparedClient {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  /** The settings to check when the server rejects the client, e.g. `"clientId" and …`. */
  credentials: string;
}

/** Options of {@link ClientAuthentication}. */
export interface ClientAuthenticationOptions {
  logger: Logger;
  fetch: typeof fetch;
  /** True when `tokenUrl` may be plain `http:` (loopback or `allowInsecureHttp`). */
  insecure: boolean;
}

/** Prepares the client side of token requests for one server. */
export class ClientAuthentication {
  readonly #server: string;
  readonly #auth: ClientCredentialsAuthConfig | PrivateKeyJwtAuthConfig;
  readonly #options: ClientAuthenticationOptions;
  readonly #warned = new Set<string>();
  readonly #endpoint: KnownTokenEndpoint;
  #key?: { text: string; key: SigningKey };

  constructor(
    server: string,
    auth: ClientCredentialsAuthConfig | PrivateKeyJwtAuthConfig,
    options: ClientAuthenticationOptions,
  ) {
    this.#server = server;
    this.#auth = auth;
    this.#options = options;
    this.#endpoint = new KnownTokenEndpoint(server, auth.tokenUrl, options);
  }

  /**
   * Reads the current secrets (or key) and returns what the next request needs.
   * @throws {ConfigError} when a secret or key file cannot be read or used, or the token URL
   *   is plain http without permission.
   */
  async prepare(signal: AbortSignal): Promise<PreparedClient> {
    const endpoint = await this.#endpoint.get(signal);
    const auth = this.#auth;
    if (auth.type === "private_key_jwt") {
      const signing = await this.#signingKey(auth, signal);
      return {
        as: endpoint.as,
        client: { client_id: auth.clientId },
        clientAuth: oauth.PrivateKeyJwt({ key: signing.key, kid: signing.kid }, {
          [oauth.modifyAssertion]: (header) => {
            // oauth4webapi names Ed25519 keys "Ed25519" (RFC 9864); most servers know "EdDSA".
            if (header.alg === "Ed25519") header.alg = signing.alg;
          },
        }),
        credentials: `"clientId" and "privateKeyFile"`,
      };
    }
    const id = await this.#secret(auth.clientId, "client ID", signal);
    const secret = await this.#secret(auth.clientSecret, "client secret", signal);
    return {
      as: endpoint.as,
      client: { client_id: id },
      clientAuth: endpoint.secretMethod === "client_secret_post"
        ? oauth.ClientSecretPost(secret)
        : clientSecretBasic(secret),
      credentials: `${setting("clientId", auth.clientId)} and ${
        setting("clientSecret", auth.clientSecret)
      }`,
    };
  }

  async #signingKey(auth: PrivateKeyJwtAuthConfig, signal: AbortSignal): Promise<SigningKey> {
    const text = await this.#secret({ file: auth.privateKeyFile }, "private key", signal);
    if (this.#key?.text === text) return this.#key.key;
    const key = await importSigningKey(text, {
      file: auth.privateKeyFile,
      server: this.#server,
      alg: auth.alg,
    });
    this.#key = { text, key };
    return key;
  }

  #secret(source: SecretSource, what: string, signal: AbortSignal): Promise<string> {
    return readSecret(source, {
      what: `${what} of server "${this.#server}"`,
      logger: this.#options.logger,
      redactor: this.#options.logger.redactor,
      warned: this.#warned,
      signal,
    });
  }
}

/** The name of the setting a secret came from: `clientSecretFile`, `clientSecretEnv`, … */
function setting(base: string, source: SecretSource): string {
  if (source.file !== undefined) return `"${base}File"`;
  if (source.env !== undefined) return `"${base}Env"`;
  return `"${base}"`;
}

/**
 * `client_secret_basic` as the MCP SDK and most authorization servers do it: the client ID and
 * secret are percent-encoded with `encodeURIComponent`, which leaves `-`, `.`, `_`, `~` and
 * `!*'()` alone. oauth4webapi's `ClientSecretBasic` escapes those too (`-` becomes `%2D`);
 * servers that form-decode (RFC 6749 §2.3.1) read both the same, but servers that only
 * base64-decode, like the MCP conformance suite's, then reject an ID such as `my-client`.
 */
export function clientSecretBasic(secret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret)}`;
    headers.set("authorization", `Basic ${btoa(credentials)}`);
  };
}
