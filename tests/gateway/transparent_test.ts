/**
 * The gateway is transparent: every MCP message type reaches its destination through it, per
 * upstream, for HTTP and stdio upstreams alike, and server-to-client requests reach the client
 * whose call caused them (CONTRACT.md, "Gateway behaviour").
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/types"
import { McpError } from "@modelcontextprotocol/sdk/types.js";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { z } from "zod";
import { connectClient, startWorld, textOf, type UpstreamKind } from "./_transparent_world.ts";
import { COUNTER_URI } from "../fixtures/transparent_server.ts";

const KINDS: UpstreamKind[] = ["http", "stdio"];

/** Calls the fixture's `wait` tool; `started` resolves once the upstream is running it. */
function startWaiting(client: Client) {
  const controller = new AbortController();
  const started = Promise.withResolvers<void>();
  const call = client.callTool({ name: "fx__wait", arguments: { ms: 20_000 } }, undefined, {
    signal: controller.signal,
    onprogress: () => started.resolve(),
  });
  call.catch(() => {});
  return { call, started: started.promise, controller };
}

for (const kind of KINDS) {
  Deno.test(`${kind} upstream: progress notifications reach the client with its own token`, async () => {
    await using world = await startWorld(kind);
    await using c = await connectClient(world.url);
    const seen: number[] = [];
    const result = await c.client.callTool(
      { name: "fx__progress", arguments: { steps: 3 } },
      undefined,
      { onprogress: (p) => void seen.push(p.progress) },
    );
    assert.equal(textOf(result), "progress done (token)");
    assert.deepEqual(seen, [1, 2, 3]);
  });

  Deno.test(`${kind} upstream: sampling, form and URL elicitation and roots are answered by the client`, async () => {
    await using world = await startWorld(kind);
    await using c = await connectClient(world.url, { answer: "forty-two" });
    const sampled = await c.client.callTool({ name: "fx__sample", arguments: { prompt: "hi" } });
    assert.equal(textOf(sampled), "sampled: reply to hi");
    const elicited = await c.client.callTool({ name: "fx__elicit", arguments: { tag: "a" } });
    assert.equal(textOf(elicited), 'accept: {"answer":"forty-two"}');
    const url = await c.client.callTool({ name: "fx__elicit_url", arguments: {} });
    assert.equal(textOf(url), "url accept");
    const roots = await c.client.callTool({ name: "fx__roots", arguments: {} });
    assert.equal(textOf(roots), "roots: file:///spec/root");
    assert.deepEqual(c.elicited, ["question a", "open this"]);
  });

  Deno.test(`${kind} upstream: a client without the elicitation capability gets an error, not a hang`, async () => {
    await using world = await startWorld(kind);
    await using c = await connectClient(world.url, { capabilities: { sampling: {} } });
    const result = await c.client.callTool({ name: "fx__elicit", arguments: { tag: "x" } });
    // The fixture's tool fails on the JSON-RPC error the gateway answered its request with.
    assert.equal(result.isError, true);
    assert.match(textOf(result), /elicitation\/create/);
  });

  Deno.test(`${kind} upstream: an upstream's cancellation of its request reaches the client`, async () => {
    await using world = await startWorld(kind);
    await using c = await connectClient(world.url);
    const result = await c.client.callTool({ name: "fx__elicit_cancel", arguments: {} });
    assert.equal(textOf(result), "gave up");
    assert.equal(await c.cancelled, "never mind");
  });

  Deno.test(`${kind} upstream: log messages arrive with logger set to the server name`, async () => {
    await using world = await startWorld(kind);
    await using c = await connectClient(world.url);
    assert.ok(c.client.getServerCapabilities()?.logging, "the gateway declares logging");
    await c.client.setLoggingLevel("debug");
    const result = await c.client.callTool({ name: "fx__log", arguments: { text: "hello log" } });
    assert.equal(textOf(result), "logged");
    assert.deepEqual(c.logs.map((l) => [l.logger, l.data]), [["fx", "hello log"]]);
  });

  Deno.test(`${kind} upstream: cancelling a call from the client reaches the upstream`, async () => {
    await using world = await startWorld(kind);
    await using c = await connectClient(world.url);
    const { call, started, controller } = startWaiting(c.client);
    await started;
    controller.abort("spec cancels");
    await assert.rejects(call);
    let count = "0";
    for (let i = 0; i < 100 && count === "0"; i++) {
      count = textOf(await c.client.callTool({ name: "fx__cancellations", arguments: {} }));
    }
    assert.equal(count, "1");
  });

  Deno.test(`${kind} upstream: completion, subscriptions, resources/updated and ping pass through`, async () => {
    await using world = await startWorld(kind);
    await using c = await connectClient(world.url);
    await using other = await connectClient(world.url);
    const caps = c.client.getServerCapabilities();
    assert.ok(caps?.completions, "the gateway declares completions");
    assert.equal(caps?.resources?.subscribe, true);
    const prompt = await c.client.complete({
      ref: { type: "ref/prompt", name: "fx__greet" },
      argument: { name: "name", value: "al" },
    });
    assert.deepEqual(prompt.completion.values, ["alice", "albert"]);
    const template = await c.client.complete({
      ref: { type: "ref/resource", uri: "fixture://items/{id}" },
      argument: { name: "id", value: "ap" },
    });
    assert.deepEqual(template.completion.values, ["apple", "apricot"]);
    await c.client.subscribeResource({ uri: COUNTER_URI });
    const update = c.nextUpdate();
    await c.client.callTool({ name: "fx__touch", arguments: {} });
    assert.equal(await update, COUNTER_URI);
    assert.deepEqual(other.updated, [], "only the subscribed session is told");
    await c.client.unsubscribeResource({ uri: COUNTER_URI });
    assert.deepEqual(await c.client.ping(), {});
    const read = await c.client.readResource({ uri: "fixture://items/banana" });
    assert.equal((read.contents[0] as { text: string }).text, "item banana");
    const greet = await c.client.getPrompt({ name: "fx__greet", arguments: { name: "bob" } });
    assert.equal((greet.messages[0].content as { text: string }).text, "Hello bob");
  });
}

Deno.test("http upstream: two clients eliciting at once each get their own answer", async () => {
  await using world = await startWorld("http");
  await using a = await connectClient(world.url, { answer: "from-a" });
  await using b = await connectClient(world.url, { answer: "from-b" });
  const rounds = 5;
  const results = await Promise.all(
    Array.from({ length: rounds }, (_, i) => [
      a.client.callTool({ name: "fx__elicit", arguments: { tag: `a${i}` } }),
      b.client.callTool({ name: "fx__elicit", arguments: { tag: `b${i}` } }),
    ]).flat(),
  );
  for (let i = 0; i < rounds; i++) {
    assert.equal(textOf(results[2 * i]), 'accept: {"answer":"from-a"}');
    assert.equal(textOf(results[2 * i + 1]), 'accept: {"answer":"from-b"}');
  }
  assert.deepEqual(a.elicited.sort(), Array.from({ length: rounds }, (_, i) => `question a${i}`));
  assert.deepEqual(b.elicited.sort(), Array.from({ length: rounds }, (_, i) => `question b${i}`));
});

Deno.test("stdio upstream: with calls of two clients in flight, an elicitation is refused, never sent to either", async () => {
  await using world = await startWorld("stdio");
  await using a = await connectClient(world.url);
  await using b = await connectClient(world.url);
  // b's call holds the upstream busy; a's elicitation then has two possible origins.
  const { call: waiting, started, controller } = startWaiting(b.client);
  await started;
  const result = await a.client.callTool({ name: "fx__elicit", arguments: { tag: "q" } });
  assert.equal(result.isError, true);
  assert.deepEqual([a.elicited, b.elicited], [[], []]);
  controller.abort();
  await assert.rejects(waiting);
  // With only one client's call in flight, the same request goes through.
  const alone = await a.client.callTool({ name: "fx__elicit", arguments: { tag: "r" } });
  assert.equal(textOf(alone), 'accept: {"answer":"yes"}');
});

Deno.test("an unknown method gets MethodNotFound from the gateway", async () => {
  await using world = await startWorld("http");
  await using c = await connectClient(world.url);
  await assert.rejects(
    c.client.request({ method: "no/such", params: {} }, z.object({})),
    (error: unknown) => error instanceof McpError && error.code === -32601,
  );
});
