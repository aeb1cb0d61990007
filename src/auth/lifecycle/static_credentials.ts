/**
 * Credentials that never change by themselves: a bearer token, an API key, basic auth, or a
 * `TOOLSCRIPT_TOKEN_<SERVER>` override. `*File` sources are re-read on every request so a
 * rotated secret is picked up without a restart.
 */
import type {
  ApiKeyAuthConfig,
  BasicAuthConfig,
  BearerAuthConfig,
  SecretSource,
} from "../../config/types.ts";
import { readSecret } from "../../config/read_secret.ts";
import type { Logger } from "../../log.ts";
import { ConfigError } from "../../errors.ts";
import type { CredentialProvider, CredentialStatus } from "../types.ts";

/** Options of {@link StaticCredentialProvider}. */
export interface StaticCredentialOptions {
  /** Warns once per loosely-permitted secret file; its redactor learns each secret read. */
  logger: Logger;
}

/** Sends fixed headers built from a static `auth` block; a 401 is final. */
export class StaticCredentialProvider implements CredentialProvider {
  readonly #auth: BearerAuthConfig | ApiKeyAuthConfig | BasicAuthConfig;
  readonly #logger: Logger;
  /** Secret files already warned about, so a loose file is reported once, not per request. */
  readonly #warned = new Set<string>();
  #lastError?: string;

  readonly #server: string;

  /**
   * Builds no header yet: secrets are read on each `headers()` call. `server` names the
   * server in error messages.
   */
  constructor(
    server: string,
    auth: BearerAuthConfig | ApiKeyAuthConfig | BasicAuthConfig,
    options: StaticCredentialOptions,
  ) {
    this.#server = server;
    this.#auth = auth;
    this.#logger = options.logger;
  }

  async headers(): Promise<Record<string, string>> {
    const auth = this.#auth;
    const read = async (source: SecretSource, field: string, what: string) => {
      try {
        return await readSecret(source, {
          logger: this.#logger,
          redactor: this.#logger.redactor,
          what,
          warned: this.#warned,
        });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const suffix = source.file ? "File" : source.env ? "Env" : "";
        throw new ConfigError(`Server "${this.#server}": ${error.message}`, {
          path: `mcpServers.${this.#server}.auth.${field}${suffix}`,
          cause: error,
        });
      }
    };
    switch (auth.type) {
      case "bearer":
        return { Authorization: `Bearer ${await read(auth.token, "token", "bearer token")}` };
      case "api_key":
        return { [auth.header]: await read(auth.key, "key", "API key") };
      case "basic": {
        const password = await read(auth.password, "password", "password");
        const encoded = btoa(String.fromCharCode(
          ...new TextEncoder().encode(`${auth.username}:${password}`),
        ));
        this.#logger.redactor.addSecret(encoded);
        return { Authorization: `Basic ${encoded}` };
      }
    }
  }

  recover(response: Response): Promise<boolean> {
    this.#lastError = `server answered ${response.status}`;
    return Promise.resolve(false);
  }

  status(): Promise<CredentialStatus> {
    return Promise.resolve({
      authType: this.#auth.type,
      state: this.#lastError ? "error" : "ok",
      lastError: this.#lastError,
    });
  }
}

/** Sends a bearer token given by environment (`TOOLSCRIPT_TOKEN_<SERVER>` or `MCP_AUTH_TOKEN`). */
export class TokenOverrideProvider implements CredentialProvider {
  readonly #token: string;
  #lastError?: string;

  /** Sends `token` verbatim; register it with your redactor (`Config.secrets` lists overrides). */
  constructor(token: string) {
    this.#token = token;
  }

  headers(): Promise<Record<string, string>> {
    return Promise.resolve({ Authorization: `Bearer ${this.#token}` });
  }

  recover(response: Response): Promise<boolean> {
    this.#lastError = `server answered ${response.status}`;
    return Promise.resolve(false);
  }

  status(): Promise<CredentialStatus> {
    return Promise.resolve({
      authType: "bearer (environment)",
      state: this.#lastError ? "error" : "ok",
      lastError: this.#lastError,
    });
  }
}
