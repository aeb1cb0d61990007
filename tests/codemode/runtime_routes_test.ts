import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load_config.ts";
import { createGateway } from "../../src/gateway/create_gateway.ts";
import { serveGatewayHttp } from "../../src/gateway/serve_http.ts";
import {
  createRuntimeRoutes,
  MAX_CHECK_BODY_BYTES,
  type RuntimeRoutesOptions,
} from "../../src/codemode/runtime_routes.ts";
import {
  type ProgramChecker,
  toolsModuleHash,
  WarmChecker,
} from "../../src/codemode/warm_checker.ts";
import { makeScratchDir, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";

const HEADER_CANARY = `header-canary-${crypto.randomUUID()}`;
const TOKEN_CANARY = `token-canary-${crypto.randomUUID()}`;
const GATEWAY_TOKEN = `gateway-token-${crypto.randomUUID()}`;

/** A gateway over one HTTP upstream configured with a header and a bearer token, on port 0. */
async function startGateway(routeOptions: RuntimeRoutesOptions = {}) {
  const dir = await makeScratchDir();
  const http = await startHttpMcpServer({
    name: "web",
    auth: {
      verify: (token) => Promise.resolve(token === TOKEN_CANARY ? { scopes: [] } : undefined),
    },
  });
  const file = await writeConfig(dir, {
    mcpServers: {
      web: {
        type: "http",
        url: http.url,
        headers: { "X-Canary": HEADER_CANARY },
        auth: { type: "bearer", token: TOKEN_CANARY },
      },
    },
  });
  const config = await loadConfig({
    flag: file,
    env: () => undefined,
    cwd: dir.path,
    home: dir.path,
  });
  const gateway = createGateway(config, { home: dir.path });
  let origin = "";
  const server = await serveGatewayHttp(gateway, {
    host: "127.0.0.1",
    port: 0,
    gatewayToken: GATEWAY_TOKEN,
    routes: createRuntimeRoutes(gateway, () => origin, routeOptions),
  });
  origin = server.origin;
  await gateway.start();
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${origin}${path}`, {
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, ...headers },
    });
  return {
    origin,
    http,
    gateway,
    get,
    async [Symbol.asyncDispose]() {
      await server.close();
      await gateway.close();
      await http.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("GET /runtime/tools.ts serves typed tool functions that call the gateway itself", async () => {
  await using env = await startGateway();
  const response = await env.get("/runtime/tools.ts");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/typescript/);
  const source = await response.text();
  assert.match(source, /^ {2}web: \{$/m);
  assert.match(source, /async add\(params: WebAddParams\): Promise<WebAddResult>/);
  assert.match(source, /export class ToolError/);
  assert.ok(source.includes(`const GATEWAY_ENDPOINT: string = "${env.origin}/mcp";`));
});

Deno.test("the tools module holds no configured header value or upstream credential", async () => {
  await using env = await startGateway();
  const seen = env.http.requests.map((r) => r.headers);
  assert.ok(seen.some((h) => h["x-canary"] === HEADER_CANARY), "the upstream got the header");
  assert.ok(seen.some((h) => h.authorization === `Bearer ${TOKEN_CANARY}`), "and the token");
  for (const query of ["", "?server=web", "?server=web&tool=whoami"]) {
    const source = await (await env.get(`/runtime/tools.ts${query}`)).text();
    assert.ok(source.includes("whoami"));
    assert.ok(!source.includes(HEADER_CANARY), `header value in module${query}`);
    assert.ok(!source.includes(TOKEN_CANARY), `token in module${query}`);
    assert.ok(!source.includes(GATEWAY_TOKEN), `gateway token in module${query}`);
  }
});

Deno.test("GET /runtime/tools.ts?server=S&tool=T narrows the module and refuses what matches nothing", async () => {
  await using env = await startGateway();
  const one = await (await env.get("/runtime/tools.ts?server=web&tool=add")).text();
  assert.match(one, /async add\(/);
  assert.doesNotMatch(one, /async echo\(/);
  const server = await (await env.get("/runtime/tools.ts?server=web")).text();
  assert.match(server, /async echo\(/);
  for (
    const [query, status] of [["?server=nope", 404], ["?server=web&tool=nope", 404], [
      "?tool=add",
      400,
    ]] as const
  ) {
    const response = await env.get(`/runtime/tools.ts${query}`);
    await response.body?.cancel();
    assert.equal(response.status, status, query);
  }
});

Deno.test("GET /runtime/tools.ts needs the gateway token and a local Origin, like /mcp", async () => {
  await using env = await startGateway();
  const anonymous = await fetch(`${env.origin}/runtime/tools.ts`);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
  const foreign = await env.get("/runtime/tools.ts", { origin: "https://evil.example" });
  await foreign.body?.cancel();
  assert.equal(foreign.status, 403);
});

Deno.test("the tools module follows the gateway's tool list", async () => {
  await using env = await startGateway();
  const before = await (await env.get("/runtime/tools.ts")).text();
  assert.equal(await (await env.get("/runtime/tools.ts")).text(), before, "stable between changes");
  assert.doesNotMatch(before, /freshTool/);
  const changed = new Promise<void>((resolve) => {
    const stop = env.gateway.onChange(() => {
      if (env.gateway.listTools().some((t) => t.name === "web__fresh_tool")) {
        stop();
        resolve();
      }
    });
  });
  env.http.addTool("fresh_tool");
  await changed;
  const after = await (await env.get("/runtime/tools.ts")).text();
  assert.match(after, /async freshTool\(/);
});

Deno.test("POST /runtime/check vouches for a program only against the module it serves, with the token and a local Origin", async () => {
  await using scratch = await makeScratchDir();
  await using warm = new WarmChecker({
    denoPath: Deno.execPath(),
    root: `${scratch.path}/checker`,
    env: (name) => Deno.env.get(name),
  });
  let checks = 0;
  const checker: ProgramChecker = {
    check(code, module, signal) {
      checks++;
      return warm.check(code, module, signal);
    },
  };
  await using env = await startGateway({ checker });
  const served = await (await env.get("/runtime/tools.ts")).text();
  await warm.warmUp(served);
  const hash = await toolsModuleHash(served);
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${env.origin}/runtime/check`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${GATEWAY_TOKEN}`,
        "content-type": "application/json",
        ...headers,
      },
      body,
    });
  const verdict = async (program: string, tools = hash, headers: Record<string, string> = {}) => {
    const response = await post(JSON.stringify({ tools, program }), headers);
    if (response.status !== 200) {
      await response.body?.cancel();
      return response.status;
    }
    return (await response.json()).verdict;
  };
  const clean = `import { tools } from "toolscript";\nconsole.log(typeof tools.web.add, "é");\n`;
  assert.equal(await verdict(clean), "clean");
  assert.equal(await verdict(`const n: number = "x";\nconsole.log(n);\n`), "unsure");
  assert.equal(await verdict(clean, "0".repeat(64)), "unsure", "another module version");
  // Past the HTTP server's 64 KiB head limit, which a program in the URL could not pass.
  const large = `const pad = "${"x".repeat(100 * 1024)}";\nconsole.log(pad.length);\n`;
  assert.equal(await verdict(large), "clean");
  assert.equal(await verdict(`${large}const n: number = "x";\n`), "unsure");
  const checked = checks;

  // Refused before any check: foreign Origin, no token, a cross-site simple POST (text/plain).
  assert.equal(await verdict(clean, hash, { origin: "https://evil.example" }), 403);
  const anonymous = await fetch(`${env.origin}/runtime/check`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tools: hash, program: clean }),
  });
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
    const simple = await post(JSON.stringify({ tools: hash, program: clean }), {
      "content-type": type,
    });
    await simple.body?.cancel();
    assert.equal(simple.status, 415, type);
  }
  const get = await env.get(`/runtime/check?tools=${hash}&program=${btoa("console.log(1);")}`);
  await get.body?.cancel();
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  for (
    const body of ["not json", "[]", JSON.stringify({ tools: hash }), '{"tools":1,"program":""}']
  ) {
    const bad = await post(body);
    await bad.body?.cancel();
    assert.equal(bad.status, 400, body);
  }
  const huge = await post(
    JSON.stringify({ tools: hash, program: "x".repeat(MAX_CHECK_BODY_BYTES) }),
  );
  await huge.body?.cancel();
  assert.equal(huge.status, 413);
  // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1, with the token.
  const { port } = new URL(env.origin);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const payload = JSON.stringify({ tools: hash, program: clean });
  await conn.write(new TextEncoder().encode(
    `POST /runtime/check HTTP/1.1\r\nHost: evil.example:${port}\r\n` +
      `Authorization: Bearer ${GATEWAY_TOKEN}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${new TextEncoder().encode(payload).length}\r\nConnection: close\r\n\r\n` +
      payload,
  ));
  const reply = new TextDecoder().decode(await new Response(conn.readable).bytes());
  assert.match(reply, /^HTTP\/1\.1 403/);
  assert.equal(checks, checked, "no refused request reached the checker");
  // The GET-only routes stay GET-only.
  const toolsByPost = await fetch(`${env.origin}/runtime/tools.ts`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
  });
  await toolsByPost.body?.cancel();
  assert.equal(toolsByPost.status, 404);
});
