/**
 * Issue 12 item 13 (third bullet): the MCP authorization spec says clients MUST refuse to
 * proceed when the authorization server's metadata does not advertise PKCE support
 * (`code_challenge_methods_supported` with `S256`). Login used to go ahead when the field was
 * missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { loginWithOAuth } from "../../src/auth/login/oauth_login.ts";
import { loginWithDeviceCode } from "../../src/auth/login/oauth_device_login.ts";
import type { RemoteServerConfig } from "../../src/config/types.ts";
import { AuthError } from "../../src/errors.ts";
import { makeScratchDir, remoteServerConfig } from "../_helpers.ts";
import { routingFetch, startRemoteOAuth } from "./_remote_oauth.ts";

const ORIGIN = "https://nopkce.remote.test";

function server(url: string): RemoteServerConfig {
  return remoteServerConfig(url, { name: "nopkce", auth: { type: "oauth" } });
}

for (
  const [what, methods] of [
    ["omits code_challenge_methods_supported", undefined],
    ["lists no S256", ["plain"]],
    ["lists nothing", []],
  ] as const
) {
  Deno.test(`login refuses an authorization server whose metadata ${what}`, async () => {
    await using remote = await startRemoteOAuth(ORIGIN, {
      metadata: { code_challenge_methods_supported: methods },
    });
    await using dir = await makeScratchDir();
    const opened: URL[] = [];
    await assert.rejects(
      loginWithOAuth({
        server: server(remote.mcpUrl),
        store: new FileTokenStore({ dir: join(dir.path, "credentials") }),
        fetch: routingFetch({ [ORIGIN]: remote.origin }),
        callbackPorts: [],
        onAuthorizationUrl: (url) => void opened.push(url),
      }),
      (error: unknown) =>
        error instanceof AuthError && error.server === "nopkce" && /PKCE/.test(error.message),
    );
    assert.deepEqual(opened, [], "no authorization URL shown");
    assert.ok(!remote.requests.includes("POST /register"), "no client registered");
  });
}

Deno.test("the device flow, which has no PKCE (RFC 8628), does not need it advertised", async () => {
  await using remote = await startRemoteOAuth(ORIGIN, {
    metadata: { code_challenge_methods_supported: undefined },
  });
  await using dir = await makeScratchDir();
  const store = new FileTokenStore({ dir: join(dir.path, "credentials") });
  const prompts: unknown[] = [];
  await loginWithDeviceCode({
    server: server(remote.mcpUrl),
    store,
    fetch: routingFetch({ [ORIGIN]: remote.origin }),
    onUserCode: (prompt) => void prompts.push(prompt),
  });
  assert.equal(prompts.length, 1);
  assert.ok((await store.load("nopkce", remote.mcpUrl))?.tokens?.accessToken);
});

Deno.test("login goes ahead when S256 is advertised", async () => {
  await using remote = await startRemoteOAuth(ORIGIN);
  await using dir = await makeScratchDir();
  const fetchFn = routingFetch({ [ORIGIN]: remote.origin });
  const store = new FileTokenStore({ dir: join(dir.path, "credentials") });
  let browsing: Promise<unknown> | undefined;
  await loginWithOAuth({
    server: server(remote.mcpUrl),
    store,
    fetch: fetchFn,
    callbackPorts: [],
    onAuthorizationUrl: (url) => {
      assert.equal(url.searchParams.get("code_challenge_method"), "S256");
      browsing = fetchFn(url, { redirect: "manual" })
        .then((r) => fetch(r.headers.get("location")!))
        .then((page) => page.body?.cancel());
    },
  });
  await browsing;
  assert.ok((await store.load("nopkce", remote.mcpUrl))?.tokens?.accessToken);
});
