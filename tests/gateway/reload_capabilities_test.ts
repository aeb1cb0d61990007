/**
 * Issue 13 / 18 follow-up: MCP has no capability renegotiation, so the gateway declares to every
 * client all it can route (logging, completions, resource subscriptions, list changes), whatever
 * upstreams are connected when the client initializes. A session that connected before a reload
 * then uses the logging, completions and subscriptions of a server the reload adds; before that,
 * the same requests get their empty answers (or a JSON-RPC error for an unknown reference), never
 * a refusal by capability. A spawned `toolscript gateway` and SDK clients, which refuse to send a
 * request the server did not declare.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { type CliProcess, makeScratchDir, spawnCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { COUNTER_URI, transparentStdioCommand } from "../fixtures/transparent_server.ts";
import { connectClient, textOf } from "./_transparent_world.ts";

async function startGateway(
  file: string,
  home: string,
): Promise<{ process: CliProcess; url: string }> {
  const process = spawnCli(["gateway", "--config", file, "--port", "0"], { home });
  const match = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/, { timeoutMs: 90_000 });
  return { process, url: match[1] };
}

async function rejection(promise: Promise<unknown>): Promise<McpError> {
  const error = await promise.then(() => assert.fail("the request succeeded"), (e: unknown) => e);
  assert.ok(error instanceof McpError, String(error));
  return error;
}

Deno.test("a session connected before a reload uses the logging, completions and subscriptions of a server the reload adds", async () => {
  await using dir = await makeScratchDir();
  // `web` offers prompts, resources and completions, but neither logging nor subscriptions.
  await using web = await startHttpMcpServer({ name: "web" });
  const webEntry = { type: "http", url: web.url };
  const file = await writeConfig(dir, { mcpServers: { web: webEntry } });
  const { process, url } = await startGateway(file, dir.path);
  await using _process = process;
  await using session = await connectClient(url);
  const { client } = session;

  const caps = client.getServerCapabilities();
  assert.ok(caps?.logging, "logging is declared though no server offers it yet");
  assert.ok(caps?.completions, "completions are declared");
  assert.equal(caps?.resources?.subscribe, true, "resource subscriptions are declared");
  for (const kind of ["tools", "prompts", "resources"] as const) {
    assert.equal(caps?.[kind]?.listChanged, true, `${kind} list changes are declared`);
  }

  // Nobody to send it to yet: it succeeds, and is remembered for servers that come later.
  assert.deepEqual(await client.setLoggingLevel("info"), {});
  const badLevel = await rejection(client.setLoggingLevel("loud" as "info"));
  assert.equal(badLevel.code, ErrorCode.InvalidParams);
  assert.match(badLevel.message, /Unknown log level "loud"/);
  // A subscription to a server without subscriptions is the gateway's own: it succeeds.
  assert.deepEqual(await client.subscribeResource({ uri: "demo://readme" }), {});
  assert.deepEqual(await client.unsubscribeResource({ uri: "demo://readme" }), {});
  const nothing = await client.complete({
    ref: { type: "ref/prompt", name: "web__greet" },
    argument: { name: "who", value: "a" },
  });
  assert.deepEqual(nothing.completion.values, []);
  const unknown = await rejection(client.complete({
    ref: { type: "ref/prompt", name: "fx__greet" },
    argument: { name: "name", value: "al" },
  }));
  assert.equal(unknown.code, ErrorCode.InvalidParams);
  assert.match(unknown.message, /Unknown prompt "fx__greet"/);

  // The reload adds `fx`, which offers all three; the session is the same one.
  await writeConfig(dir, {
    mcpServers: { web: webEntry, fx: { type: "stdio", ...transparentStdioCommand() } },
  });
  await process.waitForLine(/config reloaded .*"added":\["fx"\]/, { stream: "stderr" });

  assert.equal(
    textOf(await client.callTool({ name: "fx__log_level", arguments: {} })),
    "info",
    "the new server got the level the session asked for before it existed",
  );
  assert.equal(
    textOf(await client.callTool({ name: "fx__log", arguments: { text: "hi" } })),
    "logged",
  );
  assert.ok(
    session.logs.some((log) => log.logger === "fx" && log.data === "hi"),
    JSON.stringify(session.logs),
  );
  await client.setLoggingLevel("warning");
  assert.equal(textOf(await client.callTool({ name: "fx__log_level", arguments: {} })), "warning");

  const names = await client.complete({
    ref: { type: "ref/prompt", name: "fx__greet" },
    argument: { name: "name", value: "al" },
  });
  assert.deepEqual(names.completion.values, ["alice", "albert"]);
  const items = await client.complete({
    ref: { type: "ref/resource", uri: "fixture://items/{id}" },
    argument: { name: "id", value: "ap" },
  });
  assert.deepEqual(items.completion.values, ["apple", "apricot"]);

  assert.deepEqual(await client.subscribeResource({ uri: COUNTER_URI }), {});
  const updated = session.nextUpdate();
  assert.equal(textOf(await client.callTool({ name: "fx__touch", arguments: {} })), "touched");
  assert.equal(await updated, COUNTER_URI);
  // The fixture counts the subscriptions it was sent: the gateway's one.
  const counter = await client.readResource({ uri: COUNTER_URI });
  assert.equal((counter.contents[0] as { text: string }).text, "1");
});
