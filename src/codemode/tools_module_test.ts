import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode, isInitializeRequest, McpError } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { makeScratchDir } from "../../tests/_helpers.ts";
import { typeCheck } from "./_type_check.ts";
import type { CatalogTool } from "./tool_catalog.ts";
import { generateToolsDeclarations, generateToolsModule } from "./tools_module.ts";

const CATALOG: CatalogTool[] = [
  {
    server: "calc",
    name: "add",
    description: "Add two numbers.\nReturns their sum.",
    inputSchema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    },
    outputSchema: {
      type: "object",
      properties: { sum: { type: "number" } },
      required: ["sum"],
    },
  },
  {
    server: "calc",
    name: "echo",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  },
  { server: "calc", name: "parts", inputSchema: { type: "object" } },
  { server: "calc", name: "fail", inputSchema: { type: "object" } },
  { server: "calc", name: "browser", inputSchema: { type: "object" } },
  { server: "calc", name: "args", inputSchema: { type: "object", properties: { n: {} } } },
  { server: "my-store", name: "get-user", inputSchema: { type: "object" } },
  { server: "my-store", name: "get_user", inputSchema: { type: "object" } },
];

const GATEWAY_URL = "http://127.0.0.1:3333";

Deno.test("generateToolsModule() names namespaces and functions in camelCase without collisions", () => {
  const source = generateToolsModule(CATALOG, { gatewayUrl: GATEWAY_URL });
  assert.match(source, /^ {2}myStore: \{$/m);
  assert.match(
    source,
    /async getUser\(params\?: MyStoreGetUserParams\): Promise<MyStoreGetUserResult>/,
  );
  assert.match(source, /async getUser_2\(params\?: MyStoreGetUser_2Params\)/);
  assert.match(source, /callTool\("my-store", "get_user", params, "my-store__get_user"\)/);
  assert.match(source, /async add\(params: CalcAddParams\): Promise<CalcAddResult>/);
  assert.match(source, /export type CalcEchoResult = unknown;/);
  assert.match(
    source,
    / \* Add two numbers\.\n {5}\* Returns their sum\.\n {5}\*\n {5}\* Tool `calc__add`\./,
  );
  assert.ok(source.includes('const GATEWAY_ENDPOINT: string = "http://127.0.0.1:3333/mcp";'));
});

Deno.test("generateToolsModule() output is deterministic and independent of catalog order", () => {
  const a = generateToolsModule(CATALOG, { gatewayUrl: GATEWAY_URL });
  const b = generateToolsModule([...CATALOG].reverse(), { gatewayUrl: GATEWAY_URL });
  assert.equal(a, b);
});

Deno.test("generateToolsModule() refuses gateway URLs that could carry a secret", () => {
  for (
    const gatewayUrl of [
      "http://user:pw@127.0.0.1:1",
      "http://127.0.0.1:1/?token=x",
      "ftp://h",
      "nope",
    ]
  ) {
    assert.throws(() => generateToolsModule([], { gatewayUrl }), TypeError, gatewayUrl);
  }
});

Deno.test("generateToolsModule() reports a tool listed twice and keeps the first", () => {
  const warnings: string[] = [];
  const twice = [CATALOG[0], { ...CATALOG[0], description: "Other" }];
  const source = generateToolsModule(twice, {
    gatewayUrl: GATEWAY_URL,
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(warnings.length, 1);
  assert.ok(!source.includes("Other"));
});

const CONSUMER_OK = `import { tools, ToolError } from "./tools.ts";
const sum: number = (await tools.calc.add({ a: 1, b: 2 })).sum;
const text: unknown = await tools.calc.echo({ text: "hi" });
await tools.calc.parts();
await tools.myStore.getUser_2({});
// @ts-expect-error: b is missing
await tools.calc.add({ a: 1 });
// @ts-expect-error: a must be a number
await tools.calc.add({ a: "1", b: 2 });
// @ts-expect-error: the result has no field total
(await tools.calc.add({ a: 1, b: 2 })).total;
// @ts-expect-error: there is no such tool
await tools.calc.subtract({ a: 1, b: 2 });
try {
  await tools.calc.fail();
} catch (error) {
  if (error instanceof ToolError) console.log(error.server, error.tool, sum, text);
}
`;

Deno.test("a generated module type-checks and rejects wrong calls", async () => {
  const source = generateToolsModule(CATALOG, { gatewayUrl: GATEWAY_URL });
  const ok = await typeCheck({ "tools.ts": source, "consumer.ts": CONSUMER_OK });
  assert.ok(ok.ok, ok.diagnostics);
  const bad = await typeCheck({
    "tools.ts": source,
    "consumer.ts": `import { tools } from "./tools.ts";\nawait tools.calc.add({ a: 1, b: "2" });\n`,
  });
  assert.equal(bad.ok, false);
  assert.match(bad.diagnostics, /TS2322/);
});

Deno.test("generated declarations type-check and type the same calls", async () => {
  const declarations = generateToolsDeclarations(CATALOG);
  assert.ok(!declarations.includes("fetch("));
  assert.ok(!declarations.includes("127.0.0.1"));
  const result = await typeCheck({ "tools.ts": declarations, "consumer.ts": CONSUMER_OK });
  assert.ok(result.ok, result.diagnostics);
});

Deno.test("a hostile tool's name and description cannot break the module for the other tools", async () => {
  const escapes = "\x1b]0;x\x07\x9b\u202e\u2028";
  const hostile: CatalogTool[] = [
    {
      server: "evil",
      name: "\u1C8A",
      description: `*/ }; export {}; /*${escapes}`,
      inputSchema: {},
    },
    { server: "evil", name: "\u0264", inputSchema: { type: "object" } },
    { server: "evil", name: `n${escapes}"\\`, inputSchema: { type: "object" } },
  ];
  const catalog = [...CATALOG, ...hostile];
  const source = generateToolsModule(catalog, { gatewayUrl: GATEWAY_URL });
  const declarations = generateToolsDeclarations(catalog);
  for (const text of [source, declarations]) {
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u202e]/);
  }
  assert.match(
    source,
    /callTool\("evil", "n\\u001b\]0;x\\u0007\\u009b\\u202e\\u2028\\"\\\\", params, "evil__n\\u001b/,
  );
  const result = await typeCheck({ "tools.ts": source, "consumer.ts": CONSUMER_OK });
  assert.ok(result.ok, result.diagnostics);
  const types = await typeCheck({ "tools.ts": declarations, "consumer.ts": CONSUMER_OK });
  assert.ok(types.ok, types.diagnostics);
});

interface SeenRequest {
  rpcMethod: string | undefined;
  headers: Headers;
}

interface FakeGateway extends AsyncDisposable {
  url: string;
  seen: SeenRequest[];
  forgetSessions(): Promise<void>;
}

/** The gateway's side: a stateful SDK server whose tools carry namespaced names. */
async function startFakeGateway(
  options: { json?: boolean; token?: string } = {},
): Promise<FakeGateway> {
  const sessions = new Map<string, McpServer>();
  const seen: SeenRequest[] = [];

  function newServer(): McpServer {
    const server = new McpServer({ name: "fake-gateway", version: "1.0.0" });
    server.registerTool("calc__add", {
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    }, ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { sum: a + b },
    }));
    server.registerTool(
      "calc__echo",
      { inputSchema: { text: z.string() } },
      ({ text }) => ({ content: [{ type: "text", text }] }),
    );
    server.registerTool("calc__parts", {}, () => ({
      content: [{ type: "text", text: "one" }, { type: "text", text: "two" }],
    }));
    server.registerTool("calc__fail", {}, () => ({
      content: [{ type: "text", text: 'calc exploded; run "toolscript auth calc"' }],
      isError: true,
    }));
    server.registerTool("calc__browser", {}, () => {
      throw new McpError(ErrorCode.UrlElicitationRequired, "needs a browser");
    });
    server.registerTool("calc__args", { inputSchema: { n: z.number().optional() } }, (args) => ({
      content: [{ type: "text", text: JSON.stringify(args) }],
    }));
    return server;
  }

  async function handle(request: Request): Promise<Response> {
    const body = request.method === "POST" ? await request.clone().json() : undefined;
    seen.push({ rpcMethod: body?.method, headers: request.headers });
    if (options.token && request.headers.get("authorization") !== `Bearer ${options.token}`) {
      await request.body?.cancel();
      return Response.json({
        jsonrpc: "2.0",
        id: null,
        error: { code: -32001, message: "Unauthorized" },
      }, {
        status: 401,
      });
    }
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      const server = sessions.get(sessionId);
      if (!server) {
        await request.body?.cancel();
        return new Response("Session not found", { status: 404 });
      }
      return await (server.server.transport as WebStandardStreamableHTTPServerTransport)
        .handleRequest(request);
    }
    if (!isInitializeRequest(body)) {
      await request.body?.cancel();
      return new Response("Bad Request", { status: 400 });
    }
    const server = newServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse: options.json ?? false,
      onsessioninitialized: (id) => {
        sessions.set(id, server);
      },
    });
    await server.connect(transport);
    return await transport.handleRequest(request, { parsedBody: body });
  }

  const listening = Promise.withResolvers<Deno.NetAddr>();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: listening.resolve }, handle);
  const { port } = await listening.promise;

  async function forgetSessions(): Promise<void> {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map((server) => server.close()));
  }

  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    forgetSessions,
    async [Symbol.asyncDispose]() {
      await forgetSessions();
      await http.shutdown();
    },
  };
}

interface CalcModule {
  tools: {
    calc: {
      add(params: { a: number; b: number }): Promise<{ sum: number }>;
      echo(params: { text: string }): Promise<unknown>;
      parts(): Promise<unknown>;
      fail(): Promise<unknown>;
      browser(): Promise<unknown>;
      args(params?: { n?: unknown }): Promise<unknown>;
    };
  };
  ToolError: new (message: string, options: { server: string; tool: string }) => Error & {
    server: string;
    tool: string;
  };
}

/** Writes the module for `gatewayUrl` to `dir` and imports a fresh instance of it. */
async function importModule(dir: string, gatewayUrl: string): Promise<CalcModule> {
  const path = join(dir, "tools.ts");
  await Deno.writeTextFile(path, generateToolsModule(CATALOG, { gatewayUrl }));
  return await import(pathToFileURL(path).href);
}

for (const json of [false, true]) {
  const mode = json ? "JSON" : "SSE";
  Deno.test(`generated functions call the gateway over one session (${mode} responses)`, async () => {
    await using gateway = await startFakeGateway({ json });
    await using dir = await makeScratchDir();
    const { tools, ToolError } = await importModule(dir.path, gateway.url);

    assert.deepEqual(await tools.calc.add({ a: 2, b: 3 }), { sum: 5 });
    assert.equal(await tools.calc.echo({ text: "hi" }), "hi");
    assert.deepEqual(await tools.calc.parts(), [
      { type: "text", text: "one" },
      { type: "text", text: "two" },
    ]);
    assert.equal(await tools.calc.args(), "{}");

    const failed = await tools.calc.fail().catch((error) => error);
    assert.ok(failed instanceof ToolError);
    assert.equal(failed.message, 'calc exploded; run "toolscript auth calc"');
    assert.deepEqual([failed.server, failed.tool], ["calc", "fail"]);

    const rpcError = await tools.calc.browser().catch((error) => error);
    assert.ok(rpcError instanceof ToolError);
    assert.match(rpcError.message, /needs a browser/);

    const methods = gateway.seen.map((r) => r.rpcMethod);
    assert.equal(methods.filter((m) => m === "initialize").length, 1);
    assert.equal(methods[1], "notifications/initialized");
    for (const { headers } of gateway.seen) {
      assert.equal(headers.get("accept"), "application/json, text/event-stream");
      assert.equal(headers.get("content-type"), "application/json");
      assert.equal(headers.get("authorization"), null);
    }
    const calls = gateway.seen.filter((r) => r.rpcMethod === "tools/call");
    assert.ok(calls.every((r) => r.headers.get("mcp-session-id")));
    assert.ok(calls.every((r) => r.headers.get("mcp-protocol-version") === "2025-06-18"));
  });
}

Deno.test("generated functions run concurrent calls over a single session", async () => {
  await using gateway = await startFakeGateway();
  await using dir = await makeScratchDir();
  const { tools } = await importModule(dir.path, gateway.url);
  const sums = await Promise.all([1, 2, 3].map((a) => tools.calc.add({ a, b: 10 })));
  assert.deepEqual(sums, [{ sum: 11 }, { sum: 12 }, { sum: 13 }]);
  assert.equal(gateway.seen.filter((r) => r.rpcMethod === "initialize").length, 1);
});

Deno.test("generated functions open a new session when the gateway forgot theirs", async () => {
  await using gateway = await startFakeGateway();
  await using dir = await makeScratchDir();
  const { tools } = await importModule(dir.path, gateway.url);
  assert.deepEqual(await tools.calc.add({ a: 1, b: 1 }), { sum: 2 });
  await gateway.forgetSessions();
  assert.deepEqual(await tools.calc.add({ a: 2, b: 2 }), { sum: 4 });
  assert.equal(gateway.seen.filter((r) => r.rpcMethod === "initialize").length, 2);
});

Deno.test("generated functions send the bearer token the program was given, never baked in", async () => {
  const token = "gateway-token-for-spec";
  await using gateway = await startFakeGateway({ token });
  await using dir = await makeScratchDir();
  const { tools, ToolError } = await importModule(dir.path, gateway.url);
  assert.ok(!(await Deno.readTextFile(join(dir.path, "tools.ts"))).includes(token));

  const refused = await tools.calc.add({ a: 1, b: 1 }).catch((error) => error);
  assert.ok(refused instanceof ToolError);
  assert.match(refused.message, /HTTP 401/);

  const global = globalThis as { __TOOLSCRIPT_GATEWAY_TOKEN__?: string };
  global.__TOOLSCRIPT_GATEWAY_TOKEN__ = token;
  try {
    assert.deepEqual(await tools.calc.add({ a: 1, b: 1 }), { sum: 2 });
  } finally {
    delete global.__TOOLSCRIPT_GATEWAY_TOKEN__;
  }
});

Deno.test("generated functions throw ToolError when the gateway is unreachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  await using dir = await makeScratchDir();
  const { tools, ToolError } = await importModule(dir.path, `http://127.0.0.1:${port}`);
  const error = await tools.calc.add({ a: 1, b: 1 }).catch((e) => e);
  assert.ok(error instanceof ToolError);
  assert.match(error.message, /Cannot reach the toolscript gateway/);
});
