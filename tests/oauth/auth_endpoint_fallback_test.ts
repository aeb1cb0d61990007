import assert from "node:assert/strict";
import { join } from "node:path";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { loginWithOAuth } from "../../src/auth/login/oauth_login.ts";
import { AuthError } from "../../src/errors.ts";
import { makeScratchDir, remoteServerConfig } from "../_helpers.ts";
import { completeAuthorizeUrl } from "../fixtures/oauth_server.ts";

/**
 * A 2025-03-26 style server: no metadata anywhere, its own origin serves `/authorize`,
 * `/token` and `/register`; the token endpoint checks PKCE (S256).
 */
async function startLegacyServer() {
  const seen: string[] = [];
  const grants: { challenge: string; method: string; redirectUri: string }[] = [];
  let issued = 0;
  const tokens = () => {
    issued++;
    return Response.json({
      access_token: `access-${issued}`,
      refresh_token: `refresh-${issued}`,
      token_type: "Bearer",
      expires_in: 3600,
    });
  };
  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    seen.push(`${request.method} ${url.pathname}`);
    if (request.method === "POST" && url.pathname === "/register") {
      const body = await request.json();
      return Response.json({ ...body, client_id: "legacy-client" }, { status: 201 });
    }
    if (request.method === "GET" && url.pathname === "/authorize") {
      const q = url.searchParams;
      grants.push({
        challenge: q.get("code_challenge") ?? "",
        method: q.get("code_challenge_method") ?? "",
        redirectUri: q.get("redirect_uri") ?? "",
      });
      const back = new URL(q.get("redirect_uri")!);
      back.searchParams.set("code", `code-${grants.length}`);
      back.searchParams.set("state", q.get("state") ?? "");
      return new Response(null, { status: 302, headers: { location: back.href } });
    }
    if (request.method === "POST" && url.pathname === "/token") {
      const form = new URLSearchParams(await request.text());
      if (form.get("grant_type") === "refresh_token") {
        return form.get("refresh_token") === `refresh-${issued}`
          ? tokens()
          : Response.json({ error: "invalid_grant" }, { status: 400 });
      }
      const grant = grants[Number(form.get("code")?.replace("code-", "")) - 1];
      const verifier = new TextEncoder().encode(form.get("code_verifier") ?? "");
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", verifier));
      const challenge = btoa(String.fromCharCode(...digest))
        .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
      const ok = grant?.method === "S256" && grant.challenge === challenge &&
        form.get("redirect_uri") === grant.redirectUri;
      return ok ? tokens() : Response.json({ error: "invalid_grant" }, { status: 400 });
    }
    await request.body?.cancel();
    if (url.pathname === "/mcp") {
      return new Response(null, { status: 401, headers: { "www-authenticate": "Bearer" } });
    }
    return new Response("not found", { status: 404 });
  };
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    handler,
  );
  await ready.promise;
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return { origin, seen, [Symbol.asyncDispose]: () => server.shutdown() };
}

Deno.test("auth logs in to a server without metadata through /authorize, /token and /register at its origin", async () => {
  await using legacy = await startLegacyServer();
  await using dir = await makeScratchDir();
  const store = new FileTokenStore({ dir: join(dir.path, "credentials") });
  const server = remoteServerConfig(`${legacy.origin}/mcp`, { auth: { type: "oauth" } });
  const pages: Promise<number>[] = [];
  const result = await loginWithOAuth({
    server,
    store,
    callbackPorts: [],
    onAuthorizationUrl: (url) => {
      pages.push(
        completeAuthorizeUrl(url.href).then(async (page) => {
          await page.body?.cancel();
          return page.status;
        }),
      );
    },
  });
  assert.deepEqual(await Promise.all(pages), [200]);
  assert.equal(new URL(result.issuer!).origin, legacy.origin);
  assert.equal(result.registration, "dynamic");
  const endpoints = legacy.seen.filter((s) => !s.includes("/.well-known/"));
  assert.deepEqual(endpoints, ["POST /mcp", "POST /register", "GET /authorize", "POST /token"]);
  const doc = await store.load("demo", server.url);
  assert.equal(doc?.tokens?.accessToken, "access-1");
  assert.equal(doc?.client?.clientId, "legacy-client");

  // The stored discovery sends the refresh to the same fallback token endpoint.
  const later = () => Date.now() + 2 * 3600_000;
  const provider = new OAuthCredentialProvider(server, { store, now: later });
  assert.deepEqual(await provider.headers(), { Authorization: "Bearer access-2" });
  assert.equal(legacy.seen.at(-1), "POST /token");
});

Deno.test("auth explains that a server without metadata or default endpoints offers no OAuth login", async () => {
  const seen: string[] = [];
  const ready = Promise.withResolvers<void>();
  await using bare = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    async (request) => {
      const url = new URL(request.url);
      seen.push(`${request.method} ${url.pathname}`);
      await request.body?.cancel();
      return url.pathname === "/mcp"
        ? new Response(null, { status: 401, headers: { "www-authenticate": "Bearer" } })
        : new Response("not found: secret-looking-body", { status: 404 });
    },
  );
  await ready.promise;
  const origin = `http://127.0.0.1:${bare.addr.port}`;
  await using dir = await makeScratchDir();
  const server = remoteServerConfig(`${origin}/mcp`, { name: "no-login" });
  let shown = 0;
  const error = await loginWithOAuth({
    server,
    store: new FileTokenStore({ dir: join(dir.path, "credentials") }),
    callbackPorts: [],
    onAuthorizationUrl: () => void shown++,
  }).catch((e) => e);
  assert.ok(error instanceof AuthError, String(error));
  assert.equal(error.code, "auth_failed");
  assert.equal(shown, 0, "no authorization URL is shown");
  assert.equal(error.cause, undefined);
  assert.match(error.message, /offers no OAuth login/);
  assert.match(error.message, /TOOLSCRIPT_TOKEN_NO_LOGIN/);
  assert.match(error.message, /"auth" block/);
  assert.ok(error.message.includes(`${origin}/.well-known/oauth-protected-resource/mcp`));
  assert.ok(error.message.includes(`${origin}/.well-known/oauth-authorization-server`));
  assert.doesNotMatch(error.message, /server_error|secret-looking-body/);
  assert.ok(seen.includes("POST /register"), seen.join(", "));
});
