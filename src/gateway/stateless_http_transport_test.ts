import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { Logger, silentLogger } from "../log.ts";
import { startHttpMcpServer } from "../../tests/fixtures/http_server.ts";
import { STATELESS_PROTOCOL_VERSION, StatelessHttpTransport } from "./stateless_http_transport.ts";

type Json = Record<string, unknown>;

/** One POST the stateless server received. */
interface Seen {
  headers: Headers;
  body: Json;
}

const VERSION_META = "io.modelcontextprotocol/protocolVersion";

/**
 * A server on the 2026-07-28 wire only: no sessions, no initialize; it refuses a request whose
 * header and `_meta` versions differ (400, -32020) and answers unknown tools with HTTP 404.
 */
function startStatelessServer(options: { tools?: Json[]; sseDiscover?: boolean } = {}) {
  const seen: Seen[] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr) },
    async (request) => {
      const body = await request.json() as Json;
      seen.push({ headers: request.headers, body });
      const id = body.id ?? null;
      const error = (status: number, code: number, message: string) =>
        Response.json({ jsonrpc: "2.0", id, error: { code, message } }, { status });
      const result = (value: Json) =>
        Response.json({ jsonrpc: "2.0", id, result: { resultType: "complete", ...value } });
      const version = request.headers.get("mcp-protocol-version");
      const meta = (body.params as Json | undefined)?._meta as Json | undefined;
      if (version !== STATELESS_PROTOCOL_VERSION || meta?.[VERSION_META] !== version) {
        return error(400, -32020, "Header mismatch");
      }
      const params = body.params as Json;
      switch (body.method) {
        case "server/discover": {
          const discovered = {
            jsonrpc: "2.0",
            id,
            result: {
              resultType: "complete",
              supportedVersions: [STATELESS_PROTOCOL_VERSION],
              capabilities: { tools: {} },
              serverInfo: { name: "stateless-fixture", version: "2.0.0" },
              ttlMs: 0,
              cacheScope: "private",
            },
          };
          if (!options.sseDiscover) return Response.json(discovered);
          const event = `event: message\ndata: ${JSON.stringify(discovered)}\n\n`;
          return new Response(event, { headers: { "content-type": "text/event-stream" } });
        }
        case "tools/list":
          return result({ tools: options.tools ?? [], ttlMs: 0, cacheScope: "private" });
        case "tools/call":
          if (!(options.tools ?? []).some((tool) => tool.name === params.name)) {
            return error(404, -32602, `Unknown tool: ${params.name}`);
          }
          return result({ content: [{ type: "text", text: `called ${params.name}` }] });
        default:
          return error(404, -32601, "Method not found");
      }
    },
  );
  return {
    seen,
    url: listening.promise.then((addr) => new URL(`http://127.0.0.1:${addr.port}/mcp`)),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

async function connect(url: URL, logger = silentLogger()) {
  const transport = new StatelessHttpTransport(url, { fetch, logger, server: "test" });
  const client = new Client({ name: "test-client", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  return {
    client,
    transport,
    async [Symbol.asyncDispose]() {
      await client.close();
    },
  };
}

const REGION_TOOL = {
  name: "run_query",
  inputSchema: {
    type: "object",
    properties: {
      region: { type: "string", "x-mcp-header": "Region" },
      verbose: { type: "boolean", "x-mcp-header": "Verbose" },
      greeting: { type: "string", "x-mcp-header": "Greeting" },
      query: { type: "string" },
    },
  },
};

Deno.test("a 2026-07-28 server is spoken to without initialize, versioned on every request", async () => {
  await using server = startStatelessServer({ tools: [REGION_TOOL] });
  await using connection = await connect(await server.url);
  const { client, transport } = connection;
  assert.equal(transport.wire, "stateless");
  assert.deepEqual(client.getServerVersion(), { name: "stateless-fixture", version: "2.0.0" });
  assert.deepEqual(client.getServerCapabilities(), { tools: {} });
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name), ["run_query"]);
  const result = await client.callTool({ name: "run_query", arguments: { query: "q" } });
  assert.deepEqual(result.content, [{ type: "text", text: "called run_query" }]);

  assert.deepEqual(server.seen.map((s) => s.body.method), [
    "server/discover",
    "tools/list",
    "tools/call",
  ]);
  for (const { headers, body } of server.seen) {
    const meta = (body.params as Json)._meta as Json;
    assert.equal(meta[VERSION_META], STATELESS_PROTOCOL_VERSION);
    assert.deepEqual(meta["io.modelcontextprotocol/clientCapabilities"], {});
    assert.deepEqual(meta["io.modelcontextprotocol/clientInfo"], {
      name: "test-client",
      version: "1.0.0",
    });
    assert.equal(headers.get("mcp-method"), body.method);
    assert.equal(headers.get("mcp-session-id"), null);
  }
  assert.equal(server.seen[2].headers.get("mcp-name"), "run_query");
});

Deno.test("x-mcp-header arguments travel as Mcp-Param headers, encoded or omitted as needed", async () => {
  await using server = startStatelessServer({ tools: [REGION_TOOL] });
  await using connection = await connect(await server.url);
  await connection.client.listTools();
  await connection.client.callTool({
    name: "run_query",
    arguments: { region: "us-west1", verbose: null, greeting: "Hello, 世界", query: "q" },
  });
  const headers = server.seen.at(-1)!.headers;
  assert.equal(headers.get("mcp-param-region"), "us-west1");
  assert.equal(headers.get("mcp-param-verbose"), null);
  assert.equal(headers.get("mcp-param-greeting"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
  assert.equal(headers.get("mcp-param-query"), null);
});

Deno.test("tools with an invalid x-mcp-header are left out of tools/list, with a warning", async () => {
  const lines: string[] = [];
  const logger = new Logger({ level: "warn", write: (line) => lines.push(line) });
  await using server = startStatelessServer({
    tools: [
      REGION_TOOL,
      {
        name: "bad_header",
        inputSchema: {
          type: "object",
          properties: { v: { type: "string", "x-mcp-header": "A B" } },
        },
      },
    ],
  });
  await using connection = await connect(await server.url, logger);
  const { tools } = await connection.client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name), ["run_query"]);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /bad_header/);
});

Deno.test("a discover answer on an SSE stream is read like a JSON one", async () => {
  await using server = startStatelessServer({ sseDiscover: true });
  await using connection = await connect(await server.url);
  assert.equal(connection.transport.wire, "stateless");
});

Deno.test("a JSON-RPC error sent with an HTTP error status reaches the caller as that error", async () => {
  await using server = startStatelessServer({ tools: [REGION_TOOL] });
  await using connection = await connect(await server.url);
  const error = await connection.client.callTool({ name: "nope" }).catch((e) => e);
  assert.ok(error instanceof McpError);
  assert.equal(error.code, -32602);
});

Deno.test("a server on an older revision gets the initialize handshake and session as before", async () => {
  await using server = await startHttpMcpServer();
  await using connection = await connect(new URL(server.url));
  const { client, transport } = connection;
  assert.equal(transport.wire, "session");
  const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
  assert.deepEqual(result.content, [{ type: "text", text: "echo: hi" }]);
  const posts = server.requests.filter((r) => r.method === "POST");
  // The refused discover request, then the older wire exactly as the SDK speaks it.
  assert.equal(posts[0].headers["mcp-method"], "server/discover");
  assert.ok(posts.length >= 4);
  for (const later of posts.slice(1)) {
    assert.equal(later.headers["mcp-method"], undefined);
    assert.notEqual(later.headers["mcp-protocol-version"], STATELESS_PROTOCOL_VERSION);
  }
  assert.ok(posts.at(-1)!.headers["mcp-session-id"]);
});

Deno.test("a 401 to the discover request fails the connect without an initialize", async () => {
  await using server = await startHttpMcpServer({
    gate: () => new Response("login first", { status: 401 }),
  });
  const transport = new StatelessHttpTransport(new URL(server.url), {
    fetch,
    logger: silentLogger(),
    server: "test",
  });
  const client = new Client({ name: "test-client", version: "1.0.0" });
  const error = await client.connect(transport).catch((e) => e);
  await client.close();
  assert.ok(error instanceof StreamableHTTPError);
  assert.equal(error.code, 401);
  assert.equal(server.requests.length, 1);
});
