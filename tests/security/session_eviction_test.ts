/**
 * Issue 12 item 9: a flood of `initialize` requests used to push every other MCP session out
 * (the oldest was closed beyond 256). Sessions are now capped per caller, and only idle ones
 * are closed to make room: first those never used after `initialize`, then the least recently
 * used; a session with a request in flight never. When every session of a caller is busy, its
 * next `initialize` is refused with 503.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { validateConfig } from "../../src/config/validate_config.ts";
import { createGateway } from "../../src/gateway/create_gateway.ts";
import { serveGatewayHttp } from "../../src/gateway/serve_http.ts";
import { initializeRequestBody, makeScratchDir } from "../_helpers.ts";
import { startTransparentHttpServer } from "../fixtures/transparent_server.ts";

interface Options {
  maxSessions?: number;
  callerOf?: (request: Request) => string;
}

async function startGateway(options: Options = {}) {
  const dir = await makeScratchDir();
  const upstream = await startTransparentHttpServer();
  const config = validateConfig({ mcpServers: { fx: { type: "http", url: upstream.url } } }, {
    source: "flag",
    env: () => undefined,
  });
  const gateway = createGateway(config, { home: dir.path });
  await gateway.start();
  const server = await serveGatewayHttp(gateway, { host: "127.0.0.1", port: 0, ...options });
  return {
    url: server.url,
    async [Symbol.asyncDispose]() {
      await server.close();
      await gateway.close();
      await upstream.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** One bare `initialize` POST, as a flood sends it; returns the HTTP status. */
async function initialize(url: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: initializeRequestBody({ name: "flood", version: "1" }),
  });
  await response.body?.cancel();
  return response.status;
}

async function connect(url: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: "spec", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }),
  );
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

/** Starts the fixture's `wait` tool; `started` resolves once the upstream runs it. */
function startWaiting(client: Client) {
  const controller = new AbortController();
  const started = Promise.withResolvers<void>();
  const call = client.callTool({ name: "fx__wait", arguments: { ms: 20_000 } }, undefined, {
    signal: controller.signal,
    onprogress: () => started.resolve(),
  });
  call.catch(() => {});
  return { started: started.promise, cancel: () => controller.abort() };
}

const isSessionGone = (error: unknown) =>
  error instanceof StreamableHTTPError && error.code === 404;

Deno.test("a flood of 300 initialize requests does not close a session in use", async () => {
  await using gateway = await startGateway();
  await using client = await connect(gateway.url);
  await client.listTools();
  for (let round = 0; round < 15; round++) {
    const statuses = await Promise.all(Array.from({ length: 20 }, () => initialize(gateway.url)));
    assert.deepEqual(new Set(statuses), new Set([200]));
  }
  const tools = await client.listTools();
  assert.ok(tools.tools.some((t) => t.name === "fx__wait"));
});

Deno.test("a session with a call in flight is never closed; a caller whose sessions are all busy is refused", async () => {
  await using gateway = await startGateway({ maxSessions: 2 });
  await using a = await connect(gateway.url);
  await using b = await connect(gateway.url);
  const waitA = startWaiting(a);
  const waitB = startWaiting(b);
  await Promise.all([waitA.started, waitB.started]);
  assert.equal(await initialize(gateway.url), 503);
  assert.ok((await b.listTools()).tools.length > 0, "the busy sessions still work");
  waitA.cancel();
  await a.listTools(); // the cancel has been handled once a later request on a is answered
  assert.equal(await initialize(gateway.url), 200);
  await assert.rejects(a.listTools(), isSessionGone, "the idle session made room");
  assert.ok((await b.listTools()).tools.length > 0, "the one with a call in flight stayed");
  waitB.cancel();
});

Deno.test("among idle sessions the least recently used one is closed first", async () => {
  await using gateway = await startGateway({ maxSessions: 2 });
  await using older = await connect(gateway.url);
  await using newer = await connect(gateway.url);
  await newer.listTools();
  await older.listTools();
  await newer.listTools();
  assert.equal(await initialize(gateway.url), 200);
  await assert.rejects(older.listTools(), isSessionGone);
  await newer.listTools();
});

Deno.test("one caller's flood never closes another caller's sessions", async () => {
  await using gateway = await startGateway({
    maxSessions: 3,
    callerOf: (request) => request.headers.get("x-spec-caller") ?? "anonymous",
  });
  await using victim = await connect(gateway.url, { "x-spec-caller": "victim" });
  for (let i = 0; i < 20; i++) {
    assert.equal(await initialize(gateway.url, { "x-spec-caller": "attacker" }), 200);
  }
  // The victim's session was never used after initialize, the kind closed first, yet it stays.
  assert.ok((await victim.listTools()).tools.length > 0);
});
