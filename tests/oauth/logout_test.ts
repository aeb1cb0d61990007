import assert from "node:assert/strict";
import { join } from "node:path";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { logoutOAuth } from "../../src/auth/login/oauth_logout.ts";
import { makeScratchDir, remoteServerConfig, runCli } from "../_helpers.ts";
import { login, startWorld } from "./_world.ts";

Deno.test("logout revokes the tokens at the authorization server and deletes the credentials", async () => {
  await using world = await startWorld();
  await login(world);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(await world.as.verifyAccessToken(doc!.tokens!.accessToken));

  const result = await runCli(["logout", "demo", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Revoked and removed credentials for demo\n");
  assert.equal(world.as.counters.revoke, 2, "refresh token and access token");
  assert.equal(await world.as.verifyAccessToken(doc!.tokens!.accessToken), undefined);
  assert.equal(await world.store.load("demo", world.mcp.url), undefined);

  const again = await runCli(["logout", "demo", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, "No stored credentials for demo\n");
});

Deno.test("logout deletes the credentials even when the authorization server is gone", async () => {
  await using world = await startWorld();
  await login(world);
  await world.as.close();
  const result = await runCli(["logout", "demo", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^Removed credentials for demo \(revocation failed: network error\)\n$/,
  );
  assert.equal(await world.store.load("demo", world.mcp.url), undefined);
});

Deno.test("logout authenticates revocation the way servers that only base64-decode Basic expect", async () => {
  // Such a server compares the decoded header as it is: "my-client", not "my%2Dclient".
  const seen: string[] = [];
  const ready = Promise.withResolvers<void>();
  const as = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    async (request) => {
      await request.body?.cancel();
      const basic = request.headers.get("authorization")?.replace(/^Basic /, "") ?? "";
      seen.push(atob(basic));
      return atob(basic) === "my-client:s3cret-x"
        ? new Response(null, { status: 200 })
        : Response.json({ error: "invalid_client" }, { status: 401 });
    },
  );
  await ready.promise;
  await using _as = { [Symbol.asyncDispose]: () => as.shutdown() };
  const origin = `http://127.0.0.1:${as.addr.port}`;
  await using dir = await makeScratchDir();
  const store = new FileTokenStore({ dir: join(dir.path, "credentials") });
  const server = remoteServerConfig("http://127.0.0.1:1/mcp", { auth: { type: "oauth" } });
  await store.save({
    version: 1,
    server: "demo",
    serverUrl: server.url,
    issuer: origin,
    client: {
      clientId: "my-client",
      clientSecret: "s3cret-x",
      registration: "dynamic",
      tokenEndpointAuthMethod: "client_secret_basic",
    },
    tokens: { accessToken: "access-1", refreshToken: "refresh-1" },
    discovery: revocableDiscovery(origin),
    updatedAt: 0,
  });
  const result = await logoutOAuth("demo", { store, server });
  assert.deepEqual(seen, ["my-client:s3cret-x", "my-client:s3cret-x"]);
  assert.equal(result.revoked, true, result.revocationError);
  assert.equal(result.removed, true);
});

Deno.test("logout reports each token: a refused access token does not hide the revoked refresh token", async () => {
  // As oidc-provider does for JWT access tokens: the refresh token is revoked, the access token
  // refused with unsupported_token_type and a reason.
  const ready = Promise.withResolvers<void>();
  const as = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    async (request) => {
      const form = new URLSearchParams(await request.text());
      if (form.get("token_type_hint") === "refresh_token") return new Response(null);
      return Response.json({
        error: "unsupported_token_type",
        error_description: "revocation of JWT access tokens\x1b[2J is not supported",
      }, { status: 400 });
    },
  );
  await ready.promise;
  await using _as = { [Symbol.asyncDispose]: () => as.shutdown() };
  const origin = `http://127.0.0.1:${as.addr.port}`;
  await using dir = await makeScratchDir();
  const home = join(dir.path, "home");
  const store = new FileTokenStore({ dir: join(home, "credentials") });
  const url = "http://127.0.0.1:1/mcp";
  const configPath = join(dir.path, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({ mcpServers: { demo: { url, auth: { type: "oauth" } } } }),
  );
  await store.save({
    version: 1,
    server: "demo",
    serverUrl: url,
    issuer: origin,
    client: { clientId: "public-client", registration: "dynamic" },
    tokens: { accessToken: "access-canary-1", refreshToken: "refresh-canary-1" },
    discovery: revocableDiscovery(origin),
    updatedAt: 0,
  });
  const result = await runCli(["logout", "demo", "--config", configPath], { home });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "Removed credentials for demo (refresh token revoked; access token not revoked: " +
      'HTTP 400, error "unsupported_token_type": "revocation of JWT access tokens[2J is not ' +
      'supported")\n',
  );
  assert.ok(!(result.stdout + result.stderr).includes("canary"));
  assert.equal(await store.load("demo", url), undefined);
});

/** Stored discovery of an authorization server at `origin` that offers revocation. */
function revocableDiscovery(origin: string): Record<string, unknown> {
  return {
    authorizationServerUrl: origin,
    authorizationServerMetadata: {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      revocation_endpoint: `${origin}/revoke`,
      response_types_supported: ["code"],
    },
  };
}
