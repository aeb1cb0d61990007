/**
 * Private to tests/store: the OAuth world of tests/oauth (a real authorization server and the
 * MCP server it protects) with its config pointed at a real Redis store, gateways spawned on
 * it, and a dump of every Redis value.
 */
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CliProcess, spawnCli, writeConfig } from "../_helpers.ts";
import { type OAuthWorld, startWorld, type WorldOptions } from "../oauth/_world.ts";
import { type RedisServer, startRedis, type StartRedisOptions } from "../fixtures/redis_server.ts";
import { RedisClient } from "../../src/auth/store/redis_client.ts";
import { parseRedisUrl } from "../../src/auth/store/redis_connection.ts";
import { importStoreKey } from "../../src/auth/store/redis_encryption.ts";
import { RedisTokenStore } from "../../src/auth/store/redis_token_store.ts";

/** An OAuth world whose `demo` credentials live in Redis. */
export interface RedisWorld extends AsyncDisposable {
  world: OAuthWorld;
  redis: RedisServer;
  /** The key file the config names. */
  keyFile: string;
  /** The key, base64. */
  key: string;
  /** A store over the same Redis and key, for the spec's own reads. */
  store: RedisTokenStore;
}

/** A fresh base64 store key. */
export function randomStoreKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/** Starts Redis and the OAuth world, and writes the world's config with a `store` block. */
export async function startRedisWorld(
  options: WorldOptions & { redis?: StartRedisOptions; gateway?: Record<string, unknown> } = {},
): Promise<RedisWorld> {
  const redis = await startRedis(options.redis);
  const world = await startWorld(options);
  const key = randomStoreKey();
  const keyFile = join(world.dir.path, "store.key");
  await Deno.writeTextFile(keyFile, key + "\n", { mode: 0o600 });
  await writeStoreConfig(world, redis.url, keyFile, options.gateway);
  const store = new RedisTokenStore({ url: redis.url, key: await importStoreKey(key) });
  return {
    world,
    redis,
    keyFile,
    key,
    store,
    async [Symbol.asyncDispose]() {
      store.close();
      await world[Symbol.asyncDispose]();
      await redis[Symbol.asyncDispose]();
    },
  };
}

/** Rewrites the world's config with `"store": {"type":"redis","url":…,"encryptionKeyFile":…}`. */
export async function writeStoreConfig(
  world: OAuthWorld,
  url: string,
  keyFile: string,
  gateway?: Record<string, unknown>,
): Promise<void> {
  await writeConfig(world.dir, {
    ...(gateway ? { gateway } : {}),
    store: { type: "redis", url, encryptionKeyFile: keyFile },
    mcpServers: { demo: { type: "http", url: world.mcp.url, auth: { type: "oauth" } } },
  });
}

/** A gateway process on the world's config, with an MCP client connected to it. */
export interface GatewayProcess extends AsyncDisposable {
  process: CliProcess;
  client: Client;
  url: string;
}

/**
 * Spawns `toolscript gateway --port 0` (plus `args`) and connects a client (with `token`, if
 * given).
 */
export async function startStoreGateway(
  world: OAuthWorld,
  options: { env?: Record<string, string>; token?: string; args?: string[] } = {},
): Promise<GatewayProcess> {
  const args = ["gateway", "--config", world.configPath, "--port", "0", ...options.args ?? []];
  const process = spawnCli(args, {
    home: world.home,
    env: { TOOLSCRIPT_LOG: "debug", ...options.env },
  });
  const [, url] = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  const client = await connectClient(url, options.token);
  return {
    process,
    client,
    url,
    async [Symbol.asyncDispose]() {
      await client.close().catch(() => {});
      process.kill("SIGTERM");
      await process.status;
    },
  };
}

/** An MCP client of a gateway URL, sending `token` as its bearer token when given. */
export async function connectClient(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: "redis-store-spec", version: "1.0.0" });
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }),
  );
  return client;
}

/** Every key and value in Redis, as text (hash fields included). */
export async function dumpRedis(url: string): Promise<string> {
  const client = new RedisClient(parseRedisUrl(url));
  try {
    const keys = await client.command(["KEYS", "*"]) as string[];
    const parts: string[] = [];
    for (const key of keys) {
      const type = await client.command(["TYPE", key]);
      const value = type === "hash"
        ? await client.command(["HGETALL", key])
        : await client.command(["GET", key]);
      parts.push(key, JSON.stringify(value));
    }
    return parts.join("\n");
  } finally {
    client.close();
  }
}

/** The bearer tokens the MCP server was sent, in order, distinct. */
export function tokensSeenUpstream(world: OAuthWorld): string[] {
  const tokens = world.mcp.requests
    .map((r) => /^Bearer (\S+)$/.exec(r.headers.authorization ?? "")?.[1])
    .filter((t): t is string => t !== undefined);
  return [...new Set(tokens)];
}
