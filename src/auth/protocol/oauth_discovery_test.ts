import assert from "node:assert/strict";
import { AuthError } from "../../errors.ts";
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
  assert.equal(found.defaultEndpoints, undefined);
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

/** A server that answers every request with `status` (no metadata anywhere). */
async function serveStatus(status: (path: string) => number) {
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    (req) => new Response("no", { status: status(new URL(req.url).pathname) }),
  );
  await ready.promise;
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return { origin, [Symbol.asyncDispose]: () => server.shutdown() };
}

Deno.test("discoverOAuth() falls back to /authorize, /token and /register at the origin when there is no metadata", async () => {
  await using bare = await serveStatus(() => 404);
  const found = await discoverOAuth(`${bare.origin}/v1/mcp`, { server: "demo" });
  assert.equal(found.resourceMetadata, undefined);
  assert.equal(found.authorizationServerUrl, `${bare.origin}/`);
  const metadata = found.authorizationServerMetadata;
  assert.equal(metadata.issuer, bare.origin);
  assert.equal(metadata.authorization_endpoint, `${bare.origin}/authorize`);
  assert.equal(metadata.token_endpoint, `${bare.origin}/token`);
  assert.equal(metadata.registration_endpoint, `${bare.origin}/register`);
  assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
  const tried = found.defaultEndpoints?.metadataUrls ?? [];
  assert.ok(tried.includes(`${bare.origin}/.well-known/oauth-protected-resource/v1/mcp`));
  assert.ok(tried.includes(`${bare.origin}/.well-known/oauth-authorization-server`));
});

Deno.test("discoverOAuth() does not fall back when the resource metadata cannot be read", async () => {
  await using failing = await serveStatus((path) =>
    path.startsWith("/.well-known/oauth-protected-resource") ? 503 : 404
  );
  await assert.rejects(
    discoverOAuth(`${failing.origin}/mcp`, { server: "demo" }),
    (error: unknown) => error instanceof AuthError && /offers no OAuth login/.test(error.message),
  );
});

Deno.test("discoverOAuth() does not fall back when the resource metadata names a server without metadata", async () => {
  let origin = "";
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    (req) =>
      new URL(req.url).pathname === "/.well-known/oauth-protected-resource/mcp"
        ? Response.json({ resource: `${origin}/mcp`, authorization_servers: [`${origin}/as`] })
        : new Response("no", { status: 404 }),
  );
  await ready.promise;
  origin = `http://127.0.0.1:${server.addr.port}`;
  try {
    await assert.rejects(
      discoverOAuth(`${origin}/mcp`, { server: "demo" }),
      (error: unknown) => error instanceof AuthError && /offers no OAuth login/.test(error.message),
    );
  } finally {
    await server.shutdown();
  }
});
