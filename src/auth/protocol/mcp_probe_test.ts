import assert from "node:assert/strict";
import { AuthError } from "../../errors.ts";
import { probeServer } from "./mcp_probe.ts";
import { remoteServerConfig } from "../../../tests/_helpers.ts";

interface Seen {
  method: string;
  sessionId: string | null;
  protocolVersion: string | null;
}

/** An MCP endpoint whose answer to each JSON-RPC method a test decides. */
async function serveMcp(answer: (method: string, request: Request) => Promise<Response>) {
  const seen: Seen[] = [];
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    async (request) => {
      const { method } = await request.json();
      seen.push({
        method,
        sessionId: request.headers.get("mcp-session-id"),
        protocolVersion: request.headers.get("mcp-protocol-version"),
      });
      return await answer(method, request);
    },
  );
  await ready.promise;
  const config = remoteServerConfig(`http://127.0.0.1:${server.addr.port}/mcp`);
  return { config, seen, [Symbol.asyncDispose]: () => server.shutdown() };
}

/** An `initialize` result as an SSE stream (after a priming event), like the SDK's servers. */
function initializeAsSse(protocolVersion: string): Response {
  const result = { protocolVersion, capabilities: {}, serverInfo: { name: "t", version: "1" } };
  const body = `id: prime\ndata: \n\nevent: message\r\ndata: ${
    JSON.stringify({ jsonrpc: "2.0", id: 0, result })
  }\r\n\r\n`;
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "mcp-session-id": "session-1" },
  });
}

const challenge = () =>
  new Response(JSON.stringify({ error: "invalid_token" }), {
    status: 401,
    headers: {
      "www-authenticate":
        'Bearer scope="mcp:basic", resource_metadata="http://127.0.0.1/.well-known/x"',
    },
  });

Deno.test("probeServer() reads the challenge of tools/list when the server lets initialize through", async () => {
  await using mcp = await serveMcp((method) =>
    Promise.resolve(
      method === "initialize"
        ? initializeAsSse("2025-03-26")
        : method === "notifications/initialized"
        ? new Response(null, { status: 202 })
        : challenge(),
    )
  );
  const found = await probeServer(mcp.config);
  assert.equal(found.status, 401);
  assert.equal(found.bearer, true);
  assert.equal(found.scope, "mcp:basic");
  assert.equal(found.resourceMetadataUrl?.href, "http://127.0.0.1/.well-known/x");
  assert.deepEqual(mcp.seen, [
    { method: "initialize", sessionId: null, protocolVersion: null },
    { method: "notifications/initialized", sessionId: "session-1", protocolVersion: "2025-03-26" },
    { method: "tools/list", sessionId: "session-1", protocolVersion: "2025-03-26" },
  ]);
});

Deno.test("probeServer() stops at the first 401 and sends nothing more", async () => {
  await using mcp = await serveMcp(() => Promise.resolve(challenge()));
  const found = await probeServer(mcp.config);
  assert.equal(found.status, 401);
  assert.deepEqual(mcp.seen.map((s) => s.method), ["initialize"]);
});

Deno.test("probeServer() sends at most three requests to a server that asks for no login", async () => {
  await using mcp = await serveMcp((method) =>
    Promise.resolve(
      method === "initialize"
        ? Response.json({ jsonrpc: "2.0", id: 0, result: { protocolVersion: "2025-06-18" } })
        : Response.json({ jsonrpc: "2.0", id: 1, result: { tools: [] } }),
    )
  );
  const found = await probeServer(mcp.config);
  assert.equal(found.status, 200);
  assert.equal(found.bearer, false);
  assert.deepEqual(mcp.seen.map((s) => s.method), [
    "initialize",
    "notifications/initialized",
    "tools/list",
  ]);
  assert.equal(mcp.seen[2].protocolVersion, "2025-06-18");
});

Deno.test("probeServer() keeps the initialize's answer when a follow-up does not answer in time", async () => {
  const hung: Promise<void>[] = [];
  await using mcp = await serveMcp((method, request) => {
    if (method === "initialize") return Promise.resolve(initializeAsSse("2025-06-18"));
    // Answers only once the probe gave up and closed the request.
    const closed = new Promise<void>((resolve) => request.signal.onabort = () => resolve());
    hung.push(closed);
    return closed.then(() => new Response(null, { status: 202 }));
  });
  const found = await probeServer(mcp.config, { timeoutMs: 200 });
  assert.equal(found.status, 200);
  assert.deepEqual(mcp.seen.map((s) => s.method), ["initialize", "notifications/initialized"]);
  await Promise.all(hung);
});

Deno.test("probeServer() reports an unreachable server as a temporary AuthError", async () => {
  const mcp = await serveMcp(() => Promise.resolve(challenge()));
  await mcp[Symbol.asyncDispose]();
  const error = await probeServer(mcp.config).catch((e) => e);
  assert.ok(error instanceof AuthError, String(error));
  assert.equal(error.temporary, true);
});

Deno.test("probeServer() rejects with the caller's abort reason unchanged", async () => {
  await using mcp = await serveMcp(() => Promise.resolve(challenge()));
  const reason = new Error("stop");
  await assert.rejects(probeServer(mcp.config, { signal: AbortSignal.abort(reason) }), reason);
});
