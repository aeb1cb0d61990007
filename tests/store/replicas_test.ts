import assert from "node:assert/strict";
import { login, textOf } from "../oauth/_world.ts";
import { connectClient, startRedisWorld, startStoreGateway } from "./_redis_world.ts";

/**
 * A small load balancer for the spec: new sessions (no `Mcp-Session-Id`) go round-robin to the
 * replicas, a session's later requests to the replica that created it (affinity on the header),
 * as the docs tell operators to configure theirs.
 */
function startAffinityProxy(replicas: string[]) {
  const owner = new Map<string, string>();
  const picked: string[] = [];
  let next = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const session = req.headers.get("mcp-session-id");
    const target = session ? owner.get(session) : replicas[next++ % replicas.length];
    if (!target) return new Response("Session not found", { status: 404 });
    picked.push(target);
    const headers = new Headers(req.headers);
    headers.delete("host");
    let response: Response;
    try {
      response = await fetch(target, {
        method: req.method,
        headers,
        body: req.body,
        signal: req.signal,
      });
    } catch {
      return new Response("Bad gateway", { status: 502 });
    }
    const issued = response.headers.get("mcp-session-id");
    if (issued) owner.set(issued, target);
    return new Response(response.body, { status: response.status, headers: response.headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/mcp`,
    picked,
    close: () => server.shutdown(),
  };
}

Deno.test("two replicas behind a load balancer with session affinity share one login; one dying, clients re-initialize on the other", async () => {
  await using env = await startRedisWorld();
  const { world } = env;
  await login(world);
  await using a = await startStoreGateway(world);
  await using b = await startStoreGateway(world);
  const proxy = startAffinityProxy([a.url, b.url]);
  try {
    const first = await connectClient(proxy.url);
    const second = await connectClient(proxy.url);
    for (const [client, name] of [[first, "first"], [second, "second"]] as const) {
      const result = await client.callTool({ name: "demo__echo", arguments: { text: name } });
      assert.equal(textOf(result), `echo: ${name}`);
    }
    assert.ok(proxy.picked.includes(a.url) && proxy.picked.includes(b.url), "both replicas served");
    assert.equal(world.as.counters.tokenByGrant.authorization_code, 1, "one login for both");

    // The replica of the first session dies; its client starts a new session elsewhere.
    b.process.kill("SIGKILL");
    await b.process.status;
    await first.close().catch(() => {});
    await second.close().catch(() => {});
    for (let i = 0; i < 2; i++) {
      const client = await connectClient(proxy.url).catch(() => undefined);
      if (!client) continue; // routed to the dead replica: the next initialize goes elsewhere
      const result = await client.callTool({ name: "demo__echo", arguments: { text: "again" } });
      assert.equal(textOf(result), "echo: again");
      await client.close();
      return;
    }
    assert.fail("no session on the surviving replica");
  } finally {
    await proxy.close();
  }
});
