/**
 * What the gateway exposes, end to end through a real `toolscript gateway` and fixture servers:
 * `prefix` (custom and `""`), `tools.allow` / `tools.deny` (listing, calling, code mode), the
 * `__` config error, final-name collisions (first server wins, warned once) and resource URIs
 * two servers both offer.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { type CliProcess, makeScratchDir, runCli, spawnCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import { createGateway } from "../../src/gateway/create_gateway.ts";

async function connectTo(url: string) {
  const client = new Client({ name: "exposure-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

async function startGateway(
  config: string,
  home: string,
): Promise<{ process: CliProcess; url: string; origin: string }> {
  const process = spawnCli(["gateway", "--config", config, "--port", "0"], { home });
  const url = (await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/))[1];
  return { process, url, origin: new URL(url).origin };
}

function textOf(result: unknown): string {
  return (result as { content: { text?: string }[] }).content.map((c) => c.text ?? "").join("");
}

async function unknownToolError(client: Client, name: string): Promise<McpError> {
  const error = await client.callTool({ name, arguments: {} }).then(
    () => assert.fail(`calling "${name}" succeeded`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof McpError, String(error));
  assert.equal(error.code, ErrorCode.InvalidParams);
  return error;
}

Deno.test('prefix "" makes the gateway in front of one server list and call the server\'s own names', async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: { web: { type: "http", url: web.url, prefix: "" } },
  });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  await using direct = await connectTo(web.url);
  await using client = await connectTo(url);

  const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(await names(client), await names(direct));
  assert.deepEqual(
    (await client.listPrompts()).prompts.map((p) => p.name),
    (await direct.listPrompts()).prompts.map((p) => p.name),
  );
  assert.deepEqual(
    (await client.listResources()).resources.map((r) => [r.uri, r.name]),
    (await direct.listResources()).resources.map((r) => [r.uri, r.name]),
  );
  assert.equal(
    textOf(await client.callTool({ name: "echo", arguments: { text: "hi" } })),
    "echo: hi",
  );
  const prompt = await client.getPrompt({ name: "greet", arguments: { who: "Ann" } });
  assert.deepEqual(
    prompt.messages,
    (await direct.getPrompt({ name: "greet", arguments: { who: "Ann" } })).messages,
  );
  await unknownToolError(client, "web__echo");
});

Deno.test("a custom prefix and tools.allow/deny decide what is listed, callable and in code mode", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: {
      web: {
        type: "http",
        url: web.url,
        prefix: "w",
        tools: { allow: ["e*", "add", "who*"], deny: ["whoami"] },
      },
    },
  });
  const { process, url, origin } = await startGateway(config, dir.path);
  await using _process = process;
  await using client = await connectTo(url);

  assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), [
    "w__add",
    "w__echo",
  ]);
  assert.equal(
    textOf(await client.callTool({ name: "w__echo", arguments: { text: "x" } })),
    "echo: x",
  );
  await unknownToolError(client, "w__whoami"); // denied
  await unknownToolError(client, "w__fail"); // not allowed
  await unknownToolError(client, "web__echo"); // the server name is no alias

  const module = await (await fetch(`${origin}/runtime/tools.ts`)).text();
  assert.match(module, /^ {2}web: \{$/m, "the code-mode namespace stays the server's");
  assert.match(module, /async echo\(params: WebEchoParams\)/);
  assert.match(module, /async add\(params: WebAddParams\)/);
  assert.doesNotMatch(module, /whoami|Whoami|WebFail/);
  assert.equal((await fetch(`${origin}/runtime/tools.ts?server=web&tool=whoami`)).status, 404);

  const call = await runCli(["call", "--config", config, "web", "echo", '{"text":"via call"}'], {
    home: dir,
  });
  assert.equal(call.code, 0, call.stderr);
  assert.match(call.stdout, /echo: via call/);

  // types and search, against the running gateway and straight from the config.
  for (const env of [{ TOOLSCRIPT_GATEWAY_URL: url }, {}]) {
    const configArgs = "TOOLSCRIPT_GATEWAY_URL" in env ? [] : ["--config", config];
    const types = await runCli(["types", ...configArgs], { home: dir, env });
    assert.equal(types.code, 0, types.stderr);
    assert.match(types.stdout, /echo\(params: WebEchoParams\)/);
    assert.doesNotMatch(types.stdout, /whoami|Whoami|WebFail/);
    const filtered = await runCli(["types", ...configArgs, "--filter", "web__whoami"], {
      home: dir,
      env,
    });
    assert.equal(filtered.code, 2, filtered.stderr);
    const search = await runCli(["search", ...configArgs, "whoami", "auth", "headers", "fails"], {
      home: dir,
      env,
    });
    assert.equal(search.code, 0, search.stderr);
    assert.doesNotMatch(search.stdout, /whoami|__fail/);
    const echo = await runCli(["search", ...configArgs, "echo"], { home: dir, env });
    assert.match(echo.stdout, /^web__echo\t/m);
  }
});

Deno.test("server names and prefixes with __ are a config error (exit 2)", async () => {
  await using dir = await makeScratchDir();
  const byName = await writeConfig(dir, { mcpServers: { gh__x: stdioServerCommand() } }, "a.json");
  const byPrefix = await writeConfig(
    dir,
    { mcpServers: { gh: { ...stdioServerCommand(), prefix: "gh__x" } } },
    "b.json",
  );
  for (const [config, path] of [[byName, "mcpServers.gh__x"], [byPrefix, "mcpServers.gh.prefix"]]) {
    const result = await runCli(["gateway", "--config", config, "--port", "0"], { home: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(path), result.stderr);
    assert.equal(result.stdout, "");
  }
});

Deno.test("two servers exposing the same final name: the first in the config wins and one warning names both", async () => {
  await using dir = await makeScratchDir();
  const server = (who: string, prefix?: string) => ({
    ...stdioServerCommand(["--name", who]),
    env: { WHO: who },
    ...(prefix === undefined ? {} : { prefix }),
  });
  const config = await writeConfig(dir, {
    mcpServers: {
      gh: server("gh"),
      ghx: server("ghx", "gh"),
      bare1: server("bare1", ""),
      bare2: server("bare2", ""),
    },
  });
  const { process, url } = await startGateway(config, dir.path);
  await using _process = process;
  await using client = await connectTo(url);
  const names = (await client.listTools()).tools.map((t) => t.name);
  await client.listTools();
  assert.equal(names.filter((n) => n === "gh__env").length, 1);
  assert.equal(names.filter((n) => n === "env").length, 1);
  assert.equal(new Set(names).size, names.length, "every listed name is listed once");
  const who = async (name: string) =>
    textOf(await client.callTool({ name, arguments: { name: "WHO" } }));
  assert.equal(await who("gh__env"), "gh");
  assert.equal(await who("env"), "bare1");
  // Every listed name runs on the server it is listed under (the first of its collision).
  for (const name of names.filter((n) => n.endsWith("env"))) {
    assert.equal(await who(name), name === "env" ? "bare1" : "gh");
  }
  const warnings = process.stderr().split("\n").filter((line) =>
    / warn .*both expose tool "gh__env"/.test(line)
  );
  assert.equal(warnings.length, 1, process.stderr());
  assert.match(warnings[0], /"gh"/);
  assert.match(warnings[0], /"ghx"/);
  assert.match(process.stderr(), / warn servers "bare1" and "bare2" both expose tool "env"/);
});

Deno.test("two servers offering the same resource URI: each keeps its own, never read from the other", async () => {
  await using dir = await makeScratchDir();
  await using one = await startHttpMcpServer({ name: "one" });
  await using two = await startHttpMcpServer({ name: "two" });
  const file = await writeConfig(dir, {
    mcpServers: { one: { type: "http", url: one.url }, two: { type: "http", url: two.url } },
  });
  const rewritten = "toolscript://two/demo://readme";
  const { process, url } = await startGateway(file, dir.path);
  await using _process = process;
  await using client = await connectTo(url);
  const listed = (await client.listResources()).resources.map((r) => [r.uri, r.name]);
  assert.deepEqual(listed, [["demo://readme", "one__readme"], [rewritten, "two__readme"]]);
  const read = (uri: string) =>
    client.readResource({ uri }).then(
      (r) => r.contents.map((c) => "text" in c ? c.text : "").join(""),
      (e) => e,
    );
  assert.equal(await read("demo://readme"), "Readme of one");
  // Served by server two through its own URI: never server one's readme.
  assert.equal(await read(rewritten), "Readme of two");
  assert.match(process.stderr(), /server "two" offers resource "demo:\/\/readme".*"one"/);
  // Prompts of both stay apart as well.
  const greet = async (name: string) =>
    textOf({
      content: (await client.getPrompt({ name, arguments: { who: "x" } })).messages.map((m) =>
        m.content
      ),
    });
  assert.equal(await greet("one__greet"), "Hello x, from one");
  assert.equal(await greet("two__greet"), "Hello x, from two");

  // The gateway resolves the rewritten URI to server two and the URI server two knows.
  const config = await loadConfig({
    flag: file,
    env: () => undefined,
    cwd: dir.path,
    home: dir.path,
  });
  await using gateway = createGateway(config, { home: dir.path });
  await gateway.start();
  const target = gateway.resolveResource(rewritten);
  assert.equal(target?.upstream.name, "two");
  assert.equal(target?.uri, "demo://readme");
  assert.equal(gateway.resolveResource("demo://readme")?.upstream.name, "one");
});
