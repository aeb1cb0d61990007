/**
 * Maps a conformance scenario (its name and `MCP_CONFORMANCE_CONTEXT`) onto the toolscript
 * config a user would write for that server: one http server named `conformance` with the
 * `auth` block the scenario calls for. Nothing here speaks OAuth; it only fills config fields.
 */

/** The server's name in the generated config. */
export const SERVER_NAME = "conformance";

/** The client ID metadata document URL the suite's CIMD scenario expects as `client_id`. */
export const CIMD_URL = "https://conformance-test.local/client-metadata.json";

/** The scenario context the suite passes (`name` plus scenario-specific fields). */
export type ScenarioContext = Record<string, unknown>;

/** What the client needs to know beyond the config file. */
export interface ScenarioPlan {
  /** The config document to write (`{"mcpServers": {...}}`). */
  config: { mcpServers: Record<string, Record<string, unknown>> };
  /** Which login the scenario needs: the interactive OAuth flow, or none. */
  login: "oauth" | "none";
  /** Calls the scenario asks for by name (`context.toolCalls`); otherwise every tool is called. */
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
}

/** Inputs of {@link planScenario}. */
export interface PlanInputs {
  scenario: string;
  serverUrl: string;
  context: ScenarioContext;
  /** For machine credentials: the token endpoint, as the user would configure it. */
  tokenUrl?: string;
  /** For `private_key_jwt`: where the context's private key was written. */
  privateKeyFile?: string;
  /** For `jwt_bearer`: where the context's workload JWT was written (a projected token file). */
  assertionFile?: string;
  /** For `enterprise_managed`: where the context's IdP ID token was written. */
  idTokenFile?: string;
}

/** True when the scenario authenticates with a machine grant (no login, a `tokenUrl`). */
export function usesMachineCredentials(scenario: string): boolean {
  return scenario === "auth/client-credentials-basic" ||
    scenario === "auth/client-credentials-jwt" ||
    scenario === "auth/wif-jwt-bearer" ||
    scenario === "auth/enterprise-managed-authorization";
}

/** Builds the config for one scenario. */
export function planScenario(inputs: PlanInputs): ScenarioPlan {
  const { scenario, context } = inputs;
  const server: Record<string, unknown> = { type: "http", url: inputs.serverUrl };
  let login: ScenarioPlan["login"] = "none";
  if (scenario === "auth/client-credentials-basic") {
    server.auth = {
      type: "client_credentials",
      tokenUrl: required(inputs.tokenUrl, "tokenUrl"),
      clientId: text(context, "client_id"),
      clientSecret: text(context, "client_secret"),
    };
  } else if (scenario === "auth/client-credentials-jwt") {
    server.auth = {
      type: "private_key_jwt",
      tokenUrl: required(inputs.tokenUrl, "tokenUrl"),
      clientId: text(context, "client_id"),
      privateKeyFile: required(inputs.privateKeyFile, "privateKeyFile"),
      ...(typeof context.signing_algorithm === "string" ? { alg: context.signing_algorithm } : {}),
    };
  } else if (scenario === "auth/wif-jwt-bearer") {
    server.auth = {
      type: "jwt_bearer",
      tokenUrl: required(inputs.tokenUrl, "tokenUrl"),
      clientId: text(context, "client_id"),
      assertionFile: required(inputs.assertionFile, "assertionFile"),
    };
  } else if (scenario === "auth/enterprise-managed-authorization") {
    server.auth = {
      type: "enterprise_managed",
      tokenUrl: required(inputs.tokenUrl, "tokenUrl"),
      clientId: text(context, "client_id"),
      clientSecret: text(context, "client_secret"),
      idpTokenUrl: text(context, "idp_token_endpoint"),
      idpClientId: text(context, "idp_client_id"),
      idTokenFile: required(inputs.idTokenFile, "idTokenFile"),
    };
  } else if (scenario === "auth/pre-registration") {
    login = "oauth";
    server.auth = {
      type: "oauth",
      clientId: text(context, "client_id"),
      clientSecret: text(context, "client_secret"),
    };
  } else if (scenario === "auth/basic-cimd") {
    login = "oauth";
    server.auth = { type: "oauth", clientMetadataUrl: CIMD_URL };
  } else if (scenario.startsWith("auth/")) {
    login = "oauth";
    server.auth = { type: "oauth" };
  }
  return {
    config: { mcpServers: { [SERVER_NAME]: server } },
    login,
    toolCalls: toolCalls(context),
  };
}

function toolCalls(context: ScenarioContext): ScenarioPlan["toolCalls"] {
  if (!Array.isArray(context.toolCalls)) return undefined;
  return context.toolCalls.map((call) => ({
    name: String(call?.name),
    arguments: (call?.arguments ?? {}) as Record<string, unknown>,
  }));
}

function text(context: ScenarioContext, key: string): string {
  const value = context[key];
  if (typeof value !== "string") {
    throw new TypeError(`MCP_CONFORMANCE_CONTEXT lacks the string "${key}"`);
  }
  return value;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new TypeError(`planScenario needs ${what} for this scenario`);
  return value;
}
