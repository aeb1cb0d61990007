import assert from "node:assert/strict";
import { join } from "node:path";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { loginWithOAuth } from "../../src/auth/login/oauth_login.ts";
import { makeScratchDir, remoteServerConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { completeAuthorizeUrl, startOAuthServer } from "../fixtures/oauth_server.ts";

Deno.test("auth asks for the scope of the first challenge when the server lets initialize through", async () => {
  await using as = await startOAuthServer({ scopes: ["mcp:basic", "mcp:profile"] });
  let origin = "";
  const metadataPath = "/.well-known/oauth-protected-resource/mcp";
  // Like the conformance suite's step-up server: initialize and notifications need no token,
  // everything else a token with mcp:basic; the metadata only advertises mcp:profile.
  await using mcp = await startHttpMcpServer({
    gate: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === metadataPath) {
        return Response.json({
          resource: `${origin}/mcp`,
          authorization_servers: [as.issuer],
          scopes_supported: ["mcp:profile"],
        });
      }
      if (path !== "/mcp" || request.method !== "POST") return undefined;
      const { method } = await request.clone().json();
      if (method === "initialize" || method.startsWith("notifications/")) return undefined;
      const token = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
      const granted = token ? await as.verifyAccessToken(token) : undefined;
      if (granted?.scopes.includes("mcp:basic")) return undefined;
      return new Response(JSON.stringify({ error: "invalid_token" }), {
        status: 401,
        headers: {
          "www-authenticate":
            `Bearer scope="mcp:basic", resource_metadata="${origin}${metadataPath}"`,
        },
      });
    },
  });
  origin = mcp.origin;
  await using dir = await makeScratchDir();
  const store = new FileTokenStore({ dir: join(dir.path, "credentials") });
  const server = remoteServerConfig(mcp.url, { auth: { type: "oauth" } });

  const pages: Promise<number>[] = [];
  let authorizationUrl: URL | undefined;
  const result = await loginWithOAuth({
    server,
    store,
    callbackPorts: [],
    onAuthorizationUrl: (url) => {
      authorizationUrl = url;
      pages.push(
        completeAuthorizeUrl(url.href).then(async (page) => {
          await page.body?.cancel();
          return page.status;
        }),
      );
    },
  });
  assert.deepEqual(await Promise.all(pages), [200]);

  assert.equal(authorizationUrl?.searchParams.get("scope"), "mcp:basic");
  assert.deepEqual(result.scopes, ["mcp:basic"]);
  const probe = mcp.requests.filter((r) => r.path === "/mcp").slice(0, 3);
  assert.deepEqual(probe.map((r) => r.method), ["POST", "POST", "POST"]);
  assert.equal(probe[0].headers["mcp-session-id"], undefined);
  assert.ok(probe[2].headers["mcp-session-id"], "tools/list is sent in the probe's session");
  assert.ok(probe.every((r) => r.headers.authorization === undefined));

  const doc = await store.load("demo", mcp.url);
  const granted = await as.verifyAccessToken(doc!.tokens!.accessToken);
  assert.ok(granted?.scopes.includes("mcp:basic"));
});
