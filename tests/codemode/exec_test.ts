import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { makeScratchDir, runCli, spawnCli, writeConfig } from "../_helpers.ts";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../fixtures/http_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

/** An HTTP fixture that also records the JSON-RPC method of every POST it receives. */
async function startRecordingServer(
  name: string,
  options: { locked?: boolean } = {},
): Promise<HttpMcpServerHandle & { methods: string[] }> {
  const methods: string[] = [];
  const server = await startHttpMcpServer({
    name,
    auth: options.locked ? { verify: () => Promise.resolve(undefined) } : undefined,
    gate: async (request) => {
      if (request.method !== "POST") return undefined;
      const body = await request.clone().json().catch(() => undefined);
      for (const message of Array.isArray(body) ? body : [body]) {
        if (typeof message?.method === "string") methods.push(message.method);
      }
      return undefined;
    },
  });
  return Object.assign(server, { methods });
}

Deno.test("exec runs one program that calls tools of a stdio and an HTTP server", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, {
    mcpServers: { local: stdioServerCommand(), web: { type: "http", url: web.url } },
  });
  const program = `import { tools } from "toolscript";
const echoed = await tools.local.echo({ text: "from stdio" });
const { sum } = await tools.web.add({ a: 2, b: 40 });
console.log(JSON.stringify({ echoed, sum }));
console.error("to stderr");
`;
  const result = await runCli(["exec", "--config", config, program], { home: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { echoed: "echo: from stdio", sum: 42 });
  assert.match(result.stderr, /to stderr/);
  assert.ok(web.methods.includes("tools/call"));
});

Deno.test("exec --file runs a program from a file", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const file = `${dir.path}/program.ts`;
  await Deno.writeTextFile(
    file,
    `import { tools } from "toolscript";\nconsole.log(await tools.web.echo({ text: "file" }));\n`,
  );
  const result = await runCli(["exec", "--config", config, "--file", file], { home: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "echo: file\n");
});

Deno.test("a type error stops the program before any call reaches the upstream", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const program = `import { tools } from "toolscript";
await tools.web.echo({ text: "must not run" });
const total: number = await tools.web.add({ a: 1, b: "2" });
`;
  const result = await runCli(["exec", "--config", config, program], { home: dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /TS2322/);
  assert.match(result.stderr, /program\.ts:3/);
  assert.ok(web.methods.includes("tools/list"), "the gateway did connect");
  assert.ok(!web.methods.includes("tools/call"), `calls seen: ${web.methods}`);
  assert.equal(result.stdout, "");
});

Deno.test("an uncaught tool error prints its message and exits 1", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const program = `import { tools } from "toolscript";\nawait tools.web.fail();\n`;
  const result = await runCli(["exec", "--config", config, program], { home: dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ToolError: it failed/);
});

Deno.test("a tool of a server without credentials throws ToolError naming toolscript auth", async () => {
  await using dir = await makeScratchDir();
  await using locked = await startRecordingServer("locked", { locked: true });
  const config = await writeConfig(dir, {
    mcpServers: { locked: { type: "http", url: locked.url } },
  });
  const program = `import { tools, ToolError } from "toolscript";
try {
  await tools.locked.authenticate();
} catch (error) {
  console.log(error instanceof ToolError, (error as Error).message);
}
`;
  const result = await runCli(["exec", "--config", config, program], { home: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^true .*toolscript auth locked/);
});

Deno.test("exec --timeout kills a program that runs too long and exits 1", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const program = `console.log("started");\nfor (;;) { /* spin */ }\n`;
  // The timeout counts from the program's start: type-checking, however slow, is not in it.
  const result = await runCli(["exec", "--config", config, "--timeout", "3", program], {
    home: dir,
    timeoutMs: 90_000,
  });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "started\n");
  assert.match(result.stderr, /ran past 3 s and was stopped/);
});

Deno.test("a program type-checks against the ECMAScript library, the Deno namespace and the web APIs", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const program = `import { tools, ToolError } from "toolscript";
const timer: number = setTimeout(() => {}, 1);
clearTimeout(timer);
await new Promise<void>((resolve) => queueMicrotask(resolve));
const started: number = performance.now();
const url = new URL("https://example.com/a?b=1");
const bytes: Uint8Array = new TextEncoder().encode(url.searchParams.get("b") ?? "");
const copy = structuredClone({ list: [1, 2, 3] });
const controller = new AbortController();
const response: Response | undefined = copy.list.length > 3 ? await fetch(url) : undefined;
const unstable: typeof Deno.listenDatagram | undefined = undefined;
console.log(typeof crypto.randomUUID(), bytes.length, btoa("x"), controller.signal.aborted);
console.log(response, unstable, started >= 0, Deno.pid > 0, ToolError.name);
console.log(await tools.web.echo({ text: "typed" }));
`;
  const result = await runCli(["exec", "--config", config, program], {
    home: dir,
    timeoutMs: 90_000,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "string 1 eA== false\nundefined undefined true true ToolError\necho: typed\n",
  );
});

Deno.test("exec --timeout counts from the program's start: type-checking is not in it", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  // A program never checked before (no cache hit): checking it takes far longer than 0.1 s,
  // which would have killed it before its first line when the check counted.
  const program = `// ${crypto.randomUUID()}\nconsole.log("ran");\n`;
  const result = await runCli(["exec", "--config", config, "--timeout", "0.1", program], {
    home: dir,
    timeoutMs: 90_000,
  });
  assert.equal(result.stdout, "ran\n", result.stderr);
  assert.doesNotMatch(result.stderr, /Type-checking/);
});

Deno.test("exec --timeout during a tool call of its own gateway still exits", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, { mcpServers: { local: stdioServerCommand() } });
  const program = `import { tools } from "toolscript";\nconsole.log("calling");\n` +
    `await tools.local.slow({ ms: 120000 });\n`;
  // Before the fix the in-process gateway waited forever for the abandoned call; runCli's own
  // timeout (90 s) turns such a hang into a failure instead of a stuck suite. Type-checking,
  // which takes a while on a loaded machine, does not count against the timeout.
  const result = await runCli(["exec", "--config", config, "--timeout", "3", program], {
    home: dir,
    timeoutMs: 90_000,
  });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "calling\n");
  assert.match(result.stderr, /ran past 3 s and was stopped/);
});

Deno.test("exec uses the running gateway, its token, and sees tool list changes on the next run", async () => {
  await using dir = await makeScratchDir();
  await using web = await startRecordingServer("web");
  const config = await writeConfig(dir, { mcpServers: { web: { type: "http", url: web.url } } });
  const token = `gateway-${crypto.randomUUID()}`;
  await using gateway = spawnCli(["gateway", "--config", config, "--port", "0"], {
    home: dir,
    env: { TOOLSCRIPT_GATEWAY_TOKEN: token },
  });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  const env = { TOOLSCRIPT_GATEWAY_URL: url, TOOLSCRIPT_GATEWAY_TOKEN: token };
  const program = `import { tools } from "toolscript";
console.log(Object.keys(tools.web).sort().join(","));
let env = "";
try {
  env = Deno.env.get("TOOLSCRIPT_GATEWAY_TOKEN") ?? "unset";
} catch (error) {
  env = (error as Error).name;
}
console.log(env);
`;
  // No config: the program must be served by the running gateway.
  const first = await runCli(["exec", program], { home: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const [names, envResult] = first.stdout.trim().split("\n");
  assert.ok(!names.split(",").includes("freshTool"));
  assert.equal(envResult, "NotCapable");

  const withoutToken = await runCli(["exec", program], {
    home: dir,
    env: { TOOLSCRIPT_GATEWAY_URL: url },
  });
  assert.equal(withoutToken.code, 1);
  assert.match(withoutToken.stderr, /HTTP 401/);

  const client = new Client({ name: "exec-spec", version: "1.0.0" });
  const changed = Promise.withResolvers<void>();
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.resolve());
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  try {
    web.addTool("fresh_tool");
    await changed.promise;
  } finally {
    await client.close();
  }
  const second = await runCli(["exec", program], { home: dir, env });
  assert.equal(second.code, 0, second.stderr);
  assert.ok(second.stdout.split("\n")[0].split(",").includes("freshTool"), second.stdout);
});
