/**
 * Private to tests/oauth: a real authorization server, a real MCP server it protects, a
 * scratch config and TOOLSCRIPT_HOME, and helpers to log in through the real CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  type CliProcess,
  makeScratchDir,
  remoteServerConfig,
  type ScratchDir,
  spawnCli,
  writeConfig,
} from "../_helpers.ts";
import {
  completeAuthorizeUrl,
  type OAuthServerHandle,
  type OAuthServerOptions,
  startOAuthServer,
} from "../fixtures/oauth_server.ts";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../fixtures/http_server.ts";
import type { RemoteServerConfig } from "../../src/config/types.ts";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { createAuthFetch } from "../../src/auth/lifecycle/auth_fetch.ts";
import type { CredentialProvider } from "../../src/auth/types.ts";

/** Everything one OAuth spec needs; `await using` tears it all down. */
export interface OAuthWorld extends AsyncDisposable {
  as: OAuthServerHandle;
  mcp: HttpMcpServerHandle;
  dir: ScratchDir;
  /** TOOLSCRIPT_HOME. */
  home: string;
  configPath: string;
  /** The `demo` server as the config loader would produce it. */
  server: RemoteServerConfig;
  store: FileTokenStore;
  /** Path of the demo credential file. */
  credentialFile: string;
}

/** Options of {@link startWorld}. */
export interface WorldOptions extends Omit<OAuthServerOptions, "resource"> {
  /** The `auth` block of `demo`; default `{"type":"oauth"}`. */
  auth?: Record<string, unknown> | null;
  /** Scopes the MCP server requires; default `["mcp:tools"]`. */
  requiredScopes?: string[];
}

/** Starts the authorization server, the MCP server and a scratch config. */
export async function startWorld(options: WorldOptions = {}): Promise<OAuthWorld> {
  const as = await startOAuthServer({ scopes: ["mcp:tools"], ...options });
  let resource = "";
  const mcp = await startHttpMcpServer({
    auth: {
      verify: async (token) => {
        const verified = await as.verifyAccessToken(token);
        if (!verified || verified.resource?.href !== resource) return undefined;
        return { scopes: verified.scopes };
      },
      authorizationServers: [as.issuer],
      requiredScopes: options.requiredScopes ?? ["mcp:tools"],
    },
  });
  resource = mcp.url;
  const dir = await makeScratchDir();
  const home = join(dir.path, "home");
  const auth = options.auth === null ? undefined : options.auth ?? { type: "oauth" };
  const configPath = await writeConfig(dir, {
    mcpServers: { demo: { type: "http", url: mcp.url, ...(auth ? { auth } : {}) } },
  });
  const server = remoteServerConfig(
    mcp.url,
    auth?.type === "oauth" ? { auth: { type: "oauth" } } : {},
  );
  const store = new FileTokenStore({ dir: join(home, "credentials") });
  return {
    as,
    mcp,
    dir,
    home,
    configPath,
    server,
    store,
    credentialFile: join(home, "credentials", "demo.json"),
    async [Symbol.asyncDispose]() {
      await mcp.close();
      await as.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** Spawns `toolscript auth demo --no-browser …` on the world's config and home. */
export function spawnAuth(
  world: OAuthWorld,
  args: string[] = [],
  options: { env?: Record<string, string>; keepStdinOpen?: boolean } = {},
): CliProcess {
  return spawnCli(["auth", "demo", "--no-browser", "--config", world.configPath, ...args], {
    home: world.home,
    env: options.env,
    keepStdinOpen: options.keepStdinOpen,
  });
}

/** The authorization URL the CLI printed. */
export async function authorizationUrlOf(cli: CliProcess): Promise<string> {
  const match = await cli.waitForLine(/^Open this URL to authorize demo: (\S+)$/, {
    stream: "stderr",
  });
  return match[1];
}

/** Runs `auth demo` to success, playing the browser; returns the CLI's output. */
export async function login(
  world: OAuthWorld,
  args: string[] = [],
  options: { env?: Record<string, string> } = {},
): Promise<CliProcess> {
  const cli = spawnAuth(world, args, options);
  const page = await completeAuthorizeUrl(await authorizationUrlOf(cli));
  const text = await page.text();
  assert.equal(page.status, 200, text);
  const status = await cli.status;
  assert.equal(status.code, 0, cli.stderr());
  return cli;
}

/** An SDK client that reaches the demo server through `createAuthFetch`. */
export async function connectWith(
  world: OAuthWorld,
  credentials: CredentialProvider,
): Promise<Client & AsyncDisposable> {
  const client = new Client({ name: "oauth-spec", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(world.mcp.url), {
    fetch: createAuthFetch({ credentials, backoff: () => Promise.resolve() }),
  });
  await client.connect(transport);
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

/** The text of a tool result. */
export function textOf(result: unknown): string {
  return (result as { content: { text?: string }[] }).content.map((c) => c.text ?? "").join("");
}

/** A port that was free a moment ago (for `--callback-port`). */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}
