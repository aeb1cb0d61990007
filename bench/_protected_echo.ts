/**
 * The echo upstream behind bearer auth, with a real OAuth authorization server beside it
 * (`tests/fixtures/oauth_server.ts`), for the auth and token-economy rows. Both run in the
 * benchmark's process; the gateway under test is a separate process.
 */
import { join } from "node:path";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../tests/fixtures/http_server.ts";
import { type OAuthServerHandle, startOAuthServer } from "../tests/fixtures/oauth_server.ts";
import { FileTokenStore } from "../src/auth/store/file_token_store.ts";
import { REPO_ROOT } from "./_procs.ts";
import { firstLine } from "./_table.ts";

/** The scope every bench token carries. */
export const SCOPE = "mcp:tools";

/** The machine client the gateway's client_credentials provider uses. */
export const CC_CLIENT = { id: "bench-machine", secret: "bench-machine-secret-0123456789" };

/** The client the stored OAuth token was issued to. */
export const OAUTH_CLIENT = { id: "bench-user-app", secret: "bench-user-app-secret-0123456789" };

/** Where the credential modules other helpers are writing will live. */
export const CREDENTIAL_MODULES = {
  oauth: "src/auth/lifecycle/oauth_credentials.ts",
  clientCredentials: "src/auth/lifecycle/client_credentials_provider.ts",
} as const;

/** True when the repository has the module at `relativePath` (picked up once it lands). */
export async function isBuilt(relativePath: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(REPO_ROOT, relativePath))).isFile;
  } catch {
    return false;
  }
}

/**
 * The authorization server counts lifetimes in whole seconds (`exp` = issue second + TTL), so
 * a token may expire up to 1 s before the `expires_in` it was sent with; with lifetimes of a
 * second or two that would look like a client bug. The resource server allows this much
 * leeway past `exp`, as RFC 7519 permits for clock skew.
 */
export const EXPIRY_LEEWAY_MS = 1000;

/** Why a credential kind could not be measured, short enough for a table cell. */
export function unavailableReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/not supported yet/.test(message)) return "built, not wired into the gateway yet";
  return firstLine(message.replace(/ --config \S+/g, ""));
}

/** A running protected echo server and its authorization server. */
export interface ProtectedEcho extends AsyncDisposable {
  /** The protected MCP endpoint (also the RFC 8707 resource). */
  url: string;
  as: OAuthServerHandle;
  /** A static bearer token the server accepts. */
  staticToken: string;
  /** Requests the resource server refused for an unknown or expired token so far. */
  rejectedTokens(): number;
  /** Token requests of the client_credentials grant so far. */
  clientCredentialsRequests(): number;
  /** Stores an OAuth token set for `server` under `home`, as `toolscript auth` would. */
  storeOAuthToken(home: string, server: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the authorization server and the protected echo server. The resource server caches
 * each token's introspection, so checking a token costs the same for every kind of credential;
 * tokens past `exp` (plus {@link EXPIRY_LEEWAY_MS}) are refused with 401.
 */
export async function startProtectedEcho(
  options: { accessTokenTtlSeconds?: number } = {},
): Promise<ProtectedEcho> {
  const staticToken = `static-${crypto.randomUUID()}`;
  const known = new Map<string, { scopes: string[]; validUntilMs: number }>();
  let rejected = 0;
  let as: OAuthServerHandle | undefined;
  const server: HttpMcpServerHandle = await startHttpMcpServer({
    name: "echo",
    auth: {
      verify: async (token) => {
        if (token === staticToken) return { scopes: [SCOPE] };
        let entry = known.get(token);
        if (!entry) {
          const verified = await as?.verifyAccessToken(token);
          if (!verified) {
            rejected++;
            return undefined;
          }
          const validUntilMs = verified.expiresAt * 1000 + EXPIRY_LEEWAY_MS;
          entry = { scopes: verified.scopes, validUntilMs };
          known.set(token, entry);
        }
        if (entry.validUntilMs > Date.now()) return { scopes: entry.scopes };
        rejected++;
        return undefined;
      },
    },
  });
  const trim = setInterval(() => server.requests.splice(0), 1000);
  try {
    as = await startOAuthServer({
      resource: server.url,
      scopes: [SCOPE],
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
      clients: [CC_CLIENT, OAUTH_CLIENT].map((c) => ({
        client_id: c.id,
        client_secret: c.secret,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        scope: SCOPE,
      })),
    });
  } catch (error) {
    clearInterval(trim);
    await server.close();
    throw error;
  }
  const authServer = as;
  const close = async () => {
    clearInterval(trim);
    await server.close();
    await authServer.close();
  };
  return {
    url: server.url,
    as: authServer,
    staticToken,
    rejectedTokens: () => rejected,
    clientCredentialsRequests: () => authServer.counters.tokenByGrant["client_credentials"] ?? 0,
    storeOAuthToken: async (home, name) => {
      const tokens = await requestToken(authServer.tokenEndpoint, OAUTH_CLIENT, server.url);
      const store = new FileTokenStore({ dir: join(home, "credentials") });
      await store.save({
        version: 1,
        server: name,
        serverUrl: server.url,
        issuer: authServer.issuer,
        resource: server.url,
        client: { clientId: OAUTH_CLIENT.id, registration: "pre-registered" },
        tokens: {
          accessToken: tokens.access_token,
          tokenType: "Bearer",
          expiresAt: Date.now() + tokens.expires_in * 1000,
          scope: tokens.scope ?? SCOPE,
        },
        updatedAt: 0,
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface TokenResponse {
  access_token: string;
  expires_in: number;
  scope?: string;
}

/** A client_credentials token for `resource` (stands in for a finished `toolscript auth`). */
async function requestToken(
  tokenEndpoint: string,
  client: { id: string; secret: string },
  resource: string,
): Promise<TokenResponse> {
  const response = await fetch(tokenEndpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: SCOPE, resource }),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`token request failed with status ${response.status}`);
  }
  return await response.json() as TokenResponse;
}
