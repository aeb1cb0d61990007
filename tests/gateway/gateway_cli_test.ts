import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import {
  cliEnv,
  type CliProcess,
  initializeRequestBody,
  MAIN_TS,
  makeScratchDir,
  REPO_ROOT,
  spawnCli,
  writeConfig,
} from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { startSseMcpServer } from "../fixtures/sse_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

function textOf(result: unknown): string {
  return (result as ToolResult).content.map((c) => c.text ?? "").join("");
}

async function connectTo(url: string, headers?: Record<string, string>) {
  const client = new Client({ name: "gateway-spec", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }),
  );
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

async function startGateway(
  configPath: string,
  home: string,
  env: Record<string, string> = {},
): Promise<{ process: CliProcess; url: string }> {
  const process = spawnCli(["gateway", "--config", configPath, "--port", "0"], { home, env });
  // Generous: on a fresh machine the default config's first start downloads server-everything.
  const match = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, { timeoutMs: 150_000 });
  return { process, url: match[1] };
}

Deno.test("gateway serves tools of stdio, HTTP and SSE upstreams through one endpoint", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "web" });
  await using sse = await startSseMcpServer({ name: "old" });
  const marker = `stdio-${crypto.randomUUID()}`;
  const config = await writeConfig(dir, {
    mcpServers: {
      local: { ...stdioServerCommand(["--name", marker]) },
      web: { type: "http", url: http.url },
      old: { type: "sse", url: sse.url },
    },
  });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  {
    await using client = await connectTo(url);
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const server of ["local", "web", "old"]) {
      assert.ok(names.includes(`${server}__echo`), `missing ${server}__echo in ${names}`);
      const result = await client.callTool({
        name: `${server}__echo`,
        arguments: { text: server },
      });
      assert.equal(textOf(result), `echo: ${server}`);
    }
    const sum = await client.callTool({ name: "web__add", arguments: { a: 2, b: 3 } });
    assert.deepEqual((sum as ToolResult).structuredContent, { sum: 5 });
    const failed = await client.callTool({ name: "local__fail", arguments: {} });
    assert.equal((failed as ToolResult).isError, true, "upstream isError passes through");
    assert.equal(textOf(failed), "it failed");
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    assert.ok(prompts.includes("web__greet"));
    const prompt = await client.getPrompt({ name: "web__greet", arguments: { who: "Ada" } });
    assert.match(JSON.stringify(prompt.messages), /Hello Ada/);
    const resource = await client.readResource({ uri: "demo://readme" });
    assert.match(JSON.stringify(resource.contents), /Readme of/);
  }
  process.kill("SIGTERM");
  const status = await process.status;
  assert.equal(status.code, 0, process.stderr());
  const leftover = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
  assert.equal(leftover.code, 1, "the stdio child was stopped with the gateway");
});

Deno.test("a server that cannot start never blocks the others, and its calls say why", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: {
      missing: { command: "/nonexistent/toolscript-no-such-command" },
      hangs: { ...stdioServerCommand(["--hang-on-start"]), timeout: 1 },
      exits: { ...stdioServerCommand(["--exit-after-start"]) },
      web: { type: "http", url: http.url },
    },
  });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  await using client = await connectTo(url);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes("web__echo"));
  const echo = await client.callTool({ name: "web__echo", arguments: { text: "ok" } });
  assert.equal(textOf(echo), "echo: ok");
  for (const server of ["missing", "hangs", "exits"]) {
    const result = await client.callTool({ name: `${server}__echo`, arguments: { text: "x" } });
    assert.equal((result as ToolResult).isError, true);
    assert.match(textOf(result), new RegExp(`Server "${server}"`));
  }
  const health = await (await fetch(url.replace(/\/mcp$/, "/health"))).json();
  const states = Object.fromEntries(
    health.servers.map((s: { name: string; state: string }) => [s.name, s.state]),
  );
  assert.deepEqual(states, { missing: "error", hangs: "error", exits: "error", web: "ok" });
  assert.equal(health.status, "degraded");
});

Deno.test("a tool call to an upstream that crashes mid-call returns isError naming the server", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, {
    mcpServers: { local: stdioServerCommand(), other: stdioServerCommand() },
  });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  await using client = await connectTo(url);
  const crashed = await client.callTool({ name: "local__crash", arguments: {} });
  assert.equal((crashed as ToolResult).isError, true);
  assert.match(textOf(crashed), /Server "local"/);
  const other = await client.callTool({ name: "other__echo", arguments: { text: "still" } });
  assert.equal(textOf(other), "echo: still");
});

Deno.test("an upstream's tools/list_changed reaches gateway clients", async () => {
  await using dir = await makeScratchDir();
  await using http = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: http.url } } });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  await using client = await connectTo(url);
  await client.listTools();
  const changed = Promise.withResolvers<void>();
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.resolve());
  http.addTool("fresh");
  await changed.promise;
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes("web__fresh"), `web__fresh missing from ${names}`);
});

Deno.test("the HTTP endpoint refuses foreign origins and, when set, a missing gateway token", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: {} });
  const token = "gw-canary-token-5f1e";
  const { process, url } = await startGateway(config, dir.path, {
    TOOLSCRIPT_GATEWAY_TOKEN: token,
  });
  await using _process = process;
  const post = (headers: Record<string, string>) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...headers,
      },
      body: initializeRequestBody(),
    }).then(async (r) => (await r.body?.cancel(), r.status));
  assert.equal(await post({}), 401);
  assert.equal(await post({ authorization: "Bearer wrong" }), 401);
  assert.equal(
    await post({ authorization: `Bearer ${token}`, origin: "https://evil.example" }),
    403,
  );
  assert.equal(
    await post({ authorization: `Bearer ${token}`, origin: "http://localhost:3000" }),
    200,
  );
  assert.equal(await post({ authorization: `Bearer ${token}` }), 200);
  const health = await fetch(url.replace(/\/mcp$/, "/health"));
  await health.body?.cancel();
  assert.equal(health.status, 401);
  process.kill("SIGTERM");
  await process.status;
  assert.ok(!process.stderr().includes(token), "the gateway token never reaches a log line");
});

Deno.test("gateway --stdio serves MCP over stdin and stdout", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: { local: stdioServerCommand() } });
  const client = new Client({ name: "stdio-spec", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: Deno.execPath(),
      args: ["run", "-A", "-q", MAIN_TS, "gateway", "--stdio", "--config", config],
      env: cliEnv({ home: dir.path }),
      cwd: REPO_ROOT,
      stderr: "pipe",
    }),
  );
  try {
    const result = await client.callTool({ name: "local__echo", arguments: { text: "pipe" } });
    assert.equal(textOf(result), "echo: pipe");
  } finally {
    await client.close();
  }
});

Deno.test("the default config serves @modelcontextprotocol/server-everything", async () => {
  await using dir = await makeScratchDir();
  const { process, url } = await startGateway("config/toolscript.json", dir.path);
  await using _process = process;
  await using client = await connectTo(url);
  const result = await client.callTool({
    name: "everything__echo",
    arguments: { message: "from the default config" },
  });
  assert.match(textOf(result), /from the default config/);
});

Deno.test("the endpoint refuses requests addressed to a foreign host name (DNS rebinding)", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: {} });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  const { port } = new URL(url);
  // A page on evil.example whose DNS now points at 127.0.0.1: Host and Origin agree.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  try {
    const request = `GET /health HTTP/1.1\r\nHost: evil.example:${port}\r\n` +
      `Origin: http://evil.example:${port}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const reply = new TextDecoder().decode(await new Response(conn.readable).bytes());
    assert.match(reply, /^HTTP\/1\.1 403/);
  } catch (error) {
    conn.close();
    throw error;
  }
  const local = await fetch(url.replace(/\/mcp$/, "/health"));
  assert.equal(local.status, 200);
  await local.body?.cancel();
});

Deno.test("SIGTERM while a tool call is in flight still shuts the gateway down", async () => {
  await using dir = await makeScratchDir();
  const arrived = Promise.withResolvers<void>();
  await using http = await startHttpMcpServer({
    name: "web",
    // Tells the spec when the upstream has the call: the gateway then really has it in flight.
    gate: async (request) => {
      if (request.method !== "POST") return undefined;
      const body = await request.clone().text();
      if (body.includes('"tools/call"') && body.includes('"slow"')) arrived.resolve();
      return undefined;
    },
  });
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: http.url } } });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  await using client = await connectTo(url);
  await client.listTools();
  let settled = false;
  const call = client.callTool({ name: "web__slow", arguments: { ms: 60_000 } })
    .catch((e) => e)
    .finally(() => settled = true);
  const bound = AbortSignal.timeout(30_000);
  await Promise.race([
    arrived.promise,
    new Promise<never>((_, reject) =>
      bound.addEventListener("abort", () => reject(new Error("the call never reached upstream")))
    ),
  ]);
  assert.equal(settled, false, "the call is in flight when the gateway is told to stop");
  process.kill("SIGTERM");
  const deadline = AbortSignal.timeout(30_000);
  const status = await Promise.race([
    process.status,
    new Promise<never>((_, reject) =>
      deadline.addEventListener("abort", () => reject(new Error("gateway did not exit")))
    ),
  ]);
  assert.equal(status.code, 0, process.stderr());
  const result = await call;
  assert.ok(
    result instanceof Error,
    `the 60 s call cannot have finished: ${JSON.stringify(result)}`,
  );
});
