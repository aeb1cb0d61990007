import assert from "node:assert/strict";
import { openHeadless } from "./_headless_browser.ts";
import { CIMD_URL, planScenario, SERVER_NAME } from "./_scenario_config.ts";
import { exampleArguments, planCalls } from "./_tool_calls.ts";

const url = "http://localhost:4000/mcp";

Deno.test("planScenario() configures no auth for scenarios without authorization", () => {
  const plan = planScenario({ scenario: "tools_call", serverUrl: url, context: {} });
  assert.deepEqual(plan.config, { mcpServers: { [SERVER_NAME]: { type: "http", url } } });
  assert.equal(plan.login, "none");
});

Deno.test("planScenario() puts the pre-registered client of the context in the oauth block", () => {
  const plan = planScenario({
    scenario: "auth/pre-registration",
    serverUrl: url,
    context: { client_id: "id1", client_secret: "s1", issuer: "http://localhost:4001" },
  });
  assert.deepEqual(plan.config.mcpServers[SERVER_NAME].auth, {
    type: "oauth",
    clientId: "id1",
    clientSecret: "s1",
  });
  assert.equal(plan.login, "oauth");
});

Deno.test("planScenario() offers the suite's client ID metadata document for basic-cimd only", () => {
  const cimd = planScenario({ scenario: "auth/basic-cimd", serverUrl: url, context: {} });
  assert.deepEqual(cimd.config.mcpServers[SERVER_NAME].auth, {
    type: "oauth",
    clientMetadataUrl: CIMD_URL,
  });
  const other = planScenario({ scenario: "auth/metadata-var1", serverUrl: url, context: {} });
  assert.deepEqual(other.config.mcpServers[SERVER_NAME].auth, { type: "oauth" });
});

Deno.test("planScenario() maps machine-credential contexts onto client_credentials and private_key_jwt", () => {
  const basic = planScenario({
    scenario: "auth/client-credentials-basic",
    serverUrl: url,
    context: { client_id: "bot", client_secret: "s2" },
    tokenUrl: "http://localhost:4001/token",
  });
  assert.deepEqual(basic.config.mcpServers[SERVER_NAME].auth, {
    type: "client_credentials",
    tokenUrl: "http://localhost:4001/token",
    clientId: "bot",
    clientSecret: "s2",
  });
  assert.equal(basic.login, "none");
  const jwt = planScenario({
    scenario: "auth/client-credentials-jwt",
    serverUrl: url,
    context: { client_id: "bot", private_key_pem: "-----BEGIN…", signing_algorithm: "ES256" },
    tokenUrl: "http://localhost:4001/token",
    privateKeyFile: "/tmp/key.pem",
  });
  assert.deepEqual(jwt.config.mcpServers[SERVER_NAME].auth, {
    type: "private_key_jwt",
    tokenUrl: "http://localhost:4001/token",
    clientId: "bot",
    privateKeyFile: "/tmp/key.pem",
    alg: "ES256",
  });
});

Deno.test("planScenario() refuses a context that lacks a field the scenario needs", () => {
  assert.throws(
    () => planScenario({ scenario: "auth/pre-registration", serverUrl: url, context: {} }),
    TypeError,
  );
});

Deno.test("planCalls() calls every tool of the server with its required arguments", () => {
  const calls = planCalls(SERVER_NAME, [
    {
      name: `${SERVER_NAME}__add_numbers`,
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" }, note: { type: "string" } },
        required: ["a", "b"],
      },
    },
    { name: "other__tool", inputSchema: { type: "object" } },
  ]);
  assert.deepEqual(calls, [{ name: `${SERVER_NAME}__add_numbers`, arguments: { a: 1, b: 1 } }]);
});

Deno.test("planCalls() makes exactly the calls the scenario context names", () => {
  const calls = planCalls(SERVER_NAME, [{ name: `${SERVER_NAME}__a` }], [
    { name: "b", arguments: { region: "us" } },
  ]);
  assert.deepEqual(calls, [{ name: `${SERVER_NAME}__b`, arguments: { region: "us" } }]);
});

Deno.test("planCalls() echoes the other tool's input schema to json_schema_echo", () => {
  const focal = { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" };
  const calls = planCalls(SERVER_NAME, [
    { name: `${SERVER_NAME}__json_schema_2020_12_tool`, inputSchema: focal },
    { name: `${SERVER_NAME}__json_schema_echo`, inputSchema: { type: "object" } },
  ]);
  assert.deepEqual(calls[1], {
    name: `${SERVER_NAME}__json_schema_echo`,
    arguments: { schema: focal },
  });
});

Deno.test("exampleArguments() prefers const, default and enum values over typed placeholders", () => {
  assert.deepEqual(
    exampleArguments({
      properties: {
        c: { const: 7 },
        d: { type: "string", default: "x" },
        e: { enum: ["first", "second"] },
        f: { type: ["boolean", "null"] },
        g: { type: "object", properties: { h: { type: "integer" } }, required: ["h"] },
      },
      required: ["c", "d", "e", "f", "g"],
    }),
    { c: 7, d: "x", e: "first", f: true, g: { h: 1 } },
  );
});

Deno.test("openHeadless() follows redirects to the final page like a browser", async () => {
  const seen: string[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push(path);
    if (path === "/authorize") return Response.redirect(new URL("/hop?x=1", req.url), 302);
    if (path === "/hop") {
      return new Response(null, { status: 303, headers: { location: "/callback" } });
    }
    return new Response("done");
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const page = await openHeadless(new URL(`${base}/authorize`));
  assert.equal(page.status, 200);
  assert.equal(page.url.href, `${base}/callback`);
  assert.deepEqual(seen, ["/authorize", "/hop", "/callback"]);
});

Deno.test("openHeadless() gives up on a redirect loop", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => Response.redirect(req.url, 302),
  );
  await assert.rejects(
    openHeadless(new URL(`http://127.0.0.1:${server.addr.port}/loop`), { maxRedirects: 3 }),
    /More than 3 redirects/,
  );
});
