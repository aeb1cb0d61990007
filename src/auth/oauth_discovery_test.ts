import assert from "node:assert/strict";
import { AuthError } from "../errors.ts";
import { discoverOAuth } from "./oauth_discovery.ts";

/** A tiny resource + authorization server whose metadata a test shapes. */
async function serveMetadata(shape: (origin: string) => Record<string, unknown>) {
  let origin = "";
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/.well-known/oauth-protected-resource/mcp") {
        return Response.json({
          resource: `${origin}/mcp`,
          authorization_servers: [`${origin}/as`],
        });
      }
      if (path === "/.well-known/oauth-authorization-server/as") {
        return Response.json({
          issuer: `${origin}/as`,
          authorization_endpoint: `${origin}/as/authorize`,
          token_endpoint: `${origin}/as/token`,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
          ...shape(origin),
        });
      }
      return new Response("not found", { status: 404 });
    },
  );
  await ready.promise;
  origin = `http://127.0.0.1:${server.addr.port}`;
  return { origin, [Symbol.asyncDispose]: () => server.shutdown() };
}

Deno.test("discoverOAuth() finds the authorization server through RFC 9728 and RFC 8414", async () => {
  await using fake = await serveMetadata(() => ({}));
  const found = await discoverOAuth(`${fake.origin}/mcp`, { server: "demo" });
  assert.equal(found.authorizationServerUrl, `${fake.origin}/as`);
  assert.equal(found.resourceMetadata?.resource, `${fake.origin}/mcp`);
  assert.equal(found.authorizationServerMetadata.token_endpoint, `${fake.origin}/as/token`);
});

Deno.test("discoverOAuth() refuses metadata whose issuer is not the authorization server", async () => {
  await using fake = await serveMetadata(() => ({ issuer: "https://evil.example" }));
  await assert.rejects(
    discoverOAuth(`${fake.origin}/mcp`, { server: "demo" }),
    (error: unknown) => error instanceof AuthError && /names issuer/.test(error.message),
  );
});

Deno.test("discoverOAuth() refuses an authorization server without S256 PKCE", async () => {
  await using fake = await serveMetadata(() => ({ code_challenge_methods_supported: ["plain"] }));
  await assert.rejects(
    discoverOAuth(`${fake.origin}/mcp`, { server: "demo" }),
    (error: unknown) => error instanceof AuthError && /S256/.test(error.message),
  );
});

Deno.test("discoverOAuth() refuses plain http endpoints on other hosts", async () => {
  await using fake = await serveMetadata(() => ({ token_endpoint: "http://as.example/token" }));
  await assert.rejects(
    discoverOAuth(`${fake.origin}/mcp`, { server: "demo" }),
    (error: unknown) => error instanceof AuthError && /token endpoint/.test(error.message),
  );
  const allowed = await discoverOAuth(`${fake.origin}/mcp`, {
    server: "demo",
    allowInsecureHttp: true,
  });
  assert.equal(allowed.authorizationServerMetadata.token_endpoint, "http://as.example/token");
});
