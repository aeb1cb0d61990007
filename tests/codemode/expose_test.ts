import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type CliProcess, makeScratchDir, runCli, spawnCli, writeConfig } from "../_helpers.ts";
import { type HttpMcpServerHandle, startHttpMcpServer } from "../fixtures/http_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

const CODE_MODE_TOOLS = ["toolscript__exec", "toolscript__search", "toolscript__types"];

/** An HTTP fixture that reports the `text` argument of every `echo` call it receives. */
async function startEchoWatcher(
  name: string,
): Promise<HttpMcpServerHandle & { texts: string[]; next: (match: RegExp) => Promise<string> }> {
  const texts: string[] = [];
  const waiters = new Set<() => void>();
  const server = await startHttpMcpServer({
    name,
    gate: async (request) => {
      if (request.method !== "POST") return undefined;
      const body = await request.clone().json().catch(() => undefined);
      for (const message of Array.isArray(body) ? body : [body]) {
        const text = message?.params?.arguments?.text;
        if (message?.method === "tools/call" && typeof text === "string") texts.push(text);
      }
      for (const waiter of [...waiters]) waiter();
      return undefined;
    },
  });
  function next(match: RegExp): Promise<string> {
    return new Promise((resolve) => {
      const check = () => {
        const found = texts.find((text) => match.test(text));
        if (found === undefined) return;
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  }
  return Object.assign(server, { texts, next });
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "expose-spec", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

function textOf(result: unknown): string {
  const { content } = result as CallToolResult;
  return content.map((block) => block.type === "text" ? block.text : "").join("");
}

async function startGateway(
  config: string,
  home: { path: string },
  extra: string[],
): Promise<{ gateway: CliProcess; url: string }> {
  const gateway = spawnCli(["gateway", "--config", config, "--port", "0", ...extra], { home });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, {
    timeoutMs: 60_000,
  });
  return { gateway, url };
}

/** True once `pid` is no running process (gone, or a zombie waiting to be reaped). */
async function isGone(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  return stat === undefined || / Z /.test(stat.slice(stat.lastIndexOf(")")));
}

Deno.test("gateway --expose code gives any MCP client search, types and exec over two servers", async (t) => {
  await using dir = await makeScratchDir();
  await using web = await startEchoWatcher("web");
  await using locked = await startHttpMcpServer({
    name: "locked",
    auth: { verify: () => Promise.resolve(undefined) },
  });
  const config = await writeConfig(dir, {
    mcpServers: {
      local: stdioServerCommand(),
      web: { type: "http", url: web.url },
      locked: { type: "http", url: locked.url },
    },
  });
  const { gateway, url } = await startGateway(config, dir, ["--expose", "code"]);
  await using _gateway = gateway;
  const client = await connect(url);
  const second = await connect(url);
  try {
    await t.step("tools/list shows exactly the three code-mode tools", async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), CODE_MODE_TOOLS);
      for (const tool of tools) {
        assert.match(tool.description ?? "", /toolscript__search.*toolscript__types/s);
      }
    });

    await t.step("toolscript__search finds a tool by describing it", async () => {
      const result = await client.callTool({
        name: "toolscript__search",
        arguments: { query: "add two numbers", limit: 3 },
      });
      assert.ok(!result.isError, textOf(result));
      const lines = textOf(result).split("\n");
      assert.ok(lines.length <= 3);
      assert.match(lines[0], /^(local|web)__add\tAdds two numbers\.$/);
    });

    await t.step("toolscript__types returns the filtered declarations", async () => {
      const result = await client.callTool({
        name: "toolscript__types",
        arguments: { filter: "web__add" },
      });
      assert.ok(!result.isError, textOf(result));
      const text = textOf(result);
      assert.match(text, /add\(/);
      assert.match(text, /sum: number/);
      assert.doesNotMatch(text, /echo\(/);
      const unknown = await client.callTool({
        name: "toolscript__types",
        arguments: { filter: "nowhere" },
      });
      assert.equal(unknown.isError, true);
      assert.match(textOf(unknown), /No server or tool named "nowhere"/);
    });

    await t.step("toolscript__exec runs one program calling tools of both servers", async () => {
      const code = `import { tools } from "toolscript";
const echoed = await tools.local.echo({ text: "from stdio" });
const { sum } = await tools.web.add({ a: 2, b: 40 });
console.log(JSON.stringify({ echoed, sum }));
console.error("to stderr");
`;
      const result = await client.callTool({ name: "toolscript__exec", arguments: { code } });
      const text = textOf(result);
      assert.ok(!result.isError, text);
      assert.match(text, /^exit code: 0$/m);
      assert.match(text, /\{"echoed":"echo: from stdio","sum":42\}/);
      assert.match(text, /--- stderr ---\nto stderr/);
    });

    await t.step("a type error comes back as isError with the diagnostics", async () => {
      const code = `import { tools } from "toolscript";
await tools.web.echo({ text: "must not run" });
const total: number = await tools.web.add({ a: 1, b: "2" });
`;
      const result = await client.callTool({ name: "toolscript__exec", arguments: { code } });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /TS2322/);
      assert.ok(!web.texts.includes("must not run"));
    });

    await t.step(
      "a server without credentials comes back as isError naming toolscript auth",
      async () => {
        const code = `import { tools } from "toolscript";\nawait tools.locked.authenticate();\n`;
        const result = await client.callTool({ name: "toolscript__exec", arguments: { code } });
        assert.equal(result.isError, true);
        assert.match(textOf(result), /ToolError: .*toolscript auth locked/);
      },
    );

    await t.step("cancelling the exec call kills the program", async () => {
      const marker = `pid-${crypto.randomUUID()}`;
      const code = `import { tools } from "toolscript";
await tools.web.echo({ text: "${marker} " + Deno.pid });
await new Promise((resolve) => setTimeout(resolve, 60_000));
await tools.web.echo({ text: "after-delay ${marker}" });
`;
      const controller = new AbortController();
      const call = client.callTool({ name: "toolscript__exec", arguments: { code } }, undefined, {
        signal: controller.signal,
        timeout: 120_000,
      });
      const started = await web.next(new RegExp(`^${marker} \\d+$`));
      const pid = Number(started.split(" ")[1]);
      controller.abort();
      await assert.rejects(call);
      let gone = false;
      for (let i = 0; i < 200 && !(gone = await isGone(pid)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(gone, `program ${pid} still runs`);
      assert.ok(!web.texts.includes(`after-delay ${marker}`));
    });

    await t.step("two concurrent exec calls from two clients stay isolated", async () => {
      const program = (who: string) =>
        `import { tools } from "toolscript";
const echoed = await tools.web.echo({ text: "${who}" });
await tools.local.slow({ ms: 200 });
console.log(echoed);
console.error("stderr of ${who}");
`;
      const [a, b] = await Promise.all([
        client.callTool({ name: "toolscript__exec", arguments: { code: program("alpha") } }),
        second.callTool({ name: "toolscript__exec", arguments: { code: program("bravo") } }),
      ]);
      assert.ok(!a.isError && !b.isError, textOf(a) + textOf(b));
      assert.match(textOf(a), /echo: alpha/);
      assert.match(textOf(a), /stderr of alpha/);
      assert.doesNotMatch(textOf(a), /bravo/);
      assert.match(textOf(b), /echo: bravo/);
      assert.match(textOf(b), /stderr of bravo/);
      assert.doesNotMatch(textOf(b), /alpha/);
    });
  } finally {
    await client.close();
    await second.close();
  }
});

Deno.test("--expose both lists the code-mode tools and every upstream tool, over the config's expose", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    gateway: { expose: "code" },
    mcpServers: { web: { type: "http", url: web.url } },
  });
  const { gateway, url } = await startGateway(config, dir, ["--expose", "both"]);
  await using _gateway = gateway;
  const client = await connect(url);
  try {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.deepEqual(names.slice(0, 3).sort(), CODE_MODE_TOOLS);
    assert.ok(names.includes("web__echo"), names.join(","));
    const result = await client.callTool({ name: "web__echo", arguments: { text: "direct" } });
    assert.equal(textOf(result), "echo: direct");
  } finally {
    await client.close();
  }
});

Deno.test("gateway.expose: code in the config alone hides the upstream tools from tools/list", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    gateway: { expose: "code" },
    mcpServers: { web: { type: "http", url: web.url } },
  });
  const { gateway, url } = await startGateway(config, dir, []);
  await using _gateway = gateway;
  const client = await connect(url);
  try {
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
    assert.deepEqual(names, CODE_MODE_TOOLS);
  } finally {
    await client.close();
  }
});

Deno.test("a server named toolscript, a bad gateway.expose and a bad --expose exit 2", async () => {
  await using dir = await makeScratchDir();
  const reserved = await writeConfig(dir, {
    mcpServers: { toolscript: { type: "http", url: "http://127.0.0.1:9/mcp" } },
  }, "reserved.json");
  const prefixed = await writeConfig(dir, {
    mcpServers: { web: { type: "http", url: "http://127.0.0.1:9/mcp", prefix: "toolscript" } },
  }, "prefixed.json");
  const badExpose = await writeConfig(dir, {
    gateway: { expose: "everything" },
    mcpServers: {},
  }, "bad_expose.json");
  for (const config of [reserved, prefixed, badExpose]) {
    const result = await runCli(["gateway", "--config", config, "--port", "0"], { home: dir });
    assert.equal(result.code, 2, `${config}: ${result.stderr}`);
    assert.equal(result.stdout, "");
  }
  const flag = await runCli(["gateway", "--config", badExpose, "--expose", "all"], { home: dir });
  assert.equal(flag.code, 2, flag.stderr);
  assert.match(flag.stderr, /--expose/);
});
