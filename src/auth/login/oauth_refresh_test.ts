import assert from "node:assert/strict";
import { AuthError } from "../../errors.ts";
import { silentLogger } from "../../log.ts";
import { RefreshRejectedError, refreshStoredTokens } from "./oauth_refresh.ts";
import type { CredentialDocument } from "../store/token_store.ts";
import { remoteServerConfig } from "../../../tests/_helpers.ts";

const CANARY = "raw-body-canary-5d1e";

/** A token endpoint answering every request with `status` and `body`. */
async function serveTokenEndpoint(status: number, body: string) {
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => ready.resolve() },
    async (request) => {
      await request.body?.cancel();
      return new Response(body, { status, headers: { "content-type": "application/json" } });
    },
  );
  await ready.promise;
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return { origin, [Symbol.asyncDispose]: () => server.shutdown() };
}

function documentFor(origin: string): CredentialDocument {
  return {
    version: 1,
    server: "demo",
    serverUrl: `${origin}/mcp`,
    issuer: origin,
    client: { clientId: "client-1", registration: "dynamic" },
    tokens: { accessToken: "access-1", refreshToken: "refresh-1" },
    discovery: {
      authorizationServerUrl: origin,
      authorizationServerMetadata: {
        issuer: origin,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        response_types_supported: ["code"],
      },
    },
    updatedAt: 0,
  };
}

function inputsFor(origin: string) {
  const server = remoteServerConfig(`${origin}/mcp`);
  return { server, fetch: globalThis.fetch, now: Date.now, logger: silentLogger() };
}

/** Everything an error carries, down its cause chain. */
function everything(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    parts.push(String(e), (e as Error).stack ?? "", JSON.stringify(e));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}

Deno.test("a failed refresh keeps the status but no raw token-endpoint body in message or cause", async () => {
  await using endpoint = await serveTokenEndpoint(502, `<html>${CANARY}</html>`);
  const error = await refreshStoredTokens(documentFor(endpoint.origin), inputsFor(endpoint.origin))
    .catch((e) => e);
  assert.ok(error instanceof AuthError, String(error));
  assert.equal(error.temporary, true);
  assert.match(error.message, /HTTP 502/);
  assert.ok(!everything(error).includes(CANARY), everything(error));
});

Deno.test("a rejected refresh token carries no token-endpoint text in its cause", async () => {
  await using endpoint = await serveTokenEndpoint(
    400,
    JSON.stringify({ error: "invalid_grant", error_description: CANARY }),
  );
  const error = await refreshStoredTokens(documentFor(endpoint.origin), inputsFor(endpoint.origin))
    .catch((e) => e);
  assert.ok(error instanceof RefreshRejectedError, String(error));
  assert.ok(!everything(error).includes(CANARY), everything(error));
});
