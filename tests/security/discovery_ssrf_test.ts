/**
 * Issue 12 item 6: a remote server's OAuth discovery may not lead toolscript to this machine,
 * a local network, or plain http. The hostile server poses as `https://mcp.hostile.test`
 * (routed to 127.0.0.1 by the fetch seam) and points a discovery URL at a canary on real
 * loopback; the canary must never be asked anything.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileTokenStore } from "../../src/auth/store/file_token_store.ts";
import { loginWithOAuth } from "../../src/auth/login/oauth_login.ts";
import { loginWithDeviceCode } from "../../src/auth/login/oauth_device_login.ts";
import { UnsafeUrlError } from "../../src/auth/protocol/url_policy.ts";
import type { RemoteServerConfig } from "../../src/config/types.ts";
import { makeScratchDir, remoteServerConfig } from "../_helpers.ts";
import { followAuthorizeUrl } from "../fixtures/oauth_server.ts";
import { login, startWorld } from "../oauth/_world.ts";
import { type RemoteShape, routingFetch, startCanary, startRemoteOAuth } from "./_remote_oauth.ts";

const HOSTILE = "https://mcp.hostile.test";
const CANARY_SECRET = "canary-secret-7f3a9";

function remoteServer(url: string, allowInsecureHttp = false): RemoteServerConfig {
  return remoteServerConfig(url, { name: "remote", allowInsecureHttp, auth: { type: "oauth" } });
}

/** Each attack: how the hostile server answers, and the kind of URL that must be refused. */
function attacks(canary: string): [string, RemoteShape, RegExp][] {
  const port = new URL(canary).port;
  return [
    ["401 resource_metadata on loopback", {
      resourceMetadataUrl: `${canary}/prm?token=${CANARY_SECRET}`,
    }, /^resource metadata URL/],
    ["authorization server on loopback", {
      resourceMetadata: { authorization_servers: [canary] },
    }, /^authorization server/],
    ["authorization server on the metadata address", {
      resourceMetadata: { authorization_servers: ["https://169.254.169.254/latest"] },
    }, /^authorization server/],
    ["authorization server as IPv4-mapped IPv6 loopback", {
      resourceMetadata: { authorization_servers: [`https://[::ffff:127.0.0.1]:${port}/`] },
    }, /^authorization server/],
    ["authorization server on a .localhost name", {
      resourceMetadata: { authorization_servers: [`https://as.localhost:${port}/`] },
    }, /^authorization server/],
    ["token endpoint on loopback", {
      metadata: { token_endpoint: `${canary}/token` },
    }, /^token endpoint$/],
    ["registration endpoint on loopback in hex", {
      metadata: { registration_endpoint: `http://0x7f.1:${port}/register` },
    }, /^registration endpoint$/],
    ["authorization endpoint on a private network", {
      metadata: { authorization_endpoint: "https://192.168.1.1/authorize" },
    }, /^authorization endpoint$/],
    ["revocation endpoint on carrier-grade NAT", {
      metadata: { revocation_endpoint: "https://100.64.0.1/revoke" },
    }, /^revocation endpoint$/],
    ["device endpoint on an IPv6 unique local address", {
      metadata: { device_authorization_endpoint: "https://[fd00::1]/device" },
    }, /^device authorization endpoint$/],
    ["token endpoint dropping to plain http", {
      metadata: { token_endpoint: `http://mcp.hostile.test/token` },
    }, /^token endpoint$/],
    ["token endpoint on the unspecified address", {
      metadata: { token_endpoint: `http://0.0.0.0:${port}/token` },
    }, /^token endpoint$/],
  ];
}

Deno.test("a remote server's discovery cannot lead the login to loopback, private or link-local addresses, nor to http", async (t) => {
  await using canary = await startCanary();
  await using dir = await makeScratchDir();
  for (const [name, shape, kind] of attacks(canary.origin)) {
    await t.step(name, async () => {
      await using hostile = await startRemoteOAuth(HOSTILE, shape);
      const opened: URL[] = [];
      const error = await loginWithOAuth({
        server: remoteServer(hostile.mcpUrl),
        store: new FileTokenStore({ dir: join(dir.path, "credentials") }),
        fetch: routingFetch({ [HOSTILE]: hostile.origin }),
        callbackPorts: [],
        onAuthorizationUrl: (url) => void opened.push(url),
      }).then(() => undefined, (error) => error);
      assert.ok(error instanceof UnsafeUrlError, String(error));
      assert.equal(error.server, "remote");
      assert.match(error.kind, kind);
      assert.ok(error.message.includes(`"remote"`) && error.message.includes(error.url));
      assert.ok(!error.message.includes(CANARY_SECRET) && !error.url.includes(CANARY_SECRET));
      assert.deepEqual(opened, [], "no browser");
      assert.ok(
        !hostile.requests.some((r) => /\/(register|token)$/.test(r)),
        hostile.requests.join(),
      );
    });
  }
  assert.deepEqual(canary.requests, [], "the canary on loopback was never reached");
});

Deno.test("a remote server's device flow cannot send the login to a loopback device endpoint", async () => {
  await using canary = await startCanary();
  await using dir = await makeScratchDir();
  await using hostile = await startRemoteOAuth(HOSTILE, {
    metadata: { device_authorization_endpoint: `${canary.origin}/device` },
  });
  const prompts: unknown[] = [];
  await assert.rejects(
    loginWithDeviceCode({
      server: remoteServer(hostile.mcpUrl),
      store: new FileTokenStore({ dir: join(dir.path, "credentials") }),
      fetch: routingFetch({ [HOSTILE]: hostile.origin }),
      onUserCode: (prompt) => void prompts.push(prompt),
    }),
    (error: unknown) =>
      error instanceof UnsafeUrlError && error.kind === "device authorization endpoint",
  );
  assert.deepEqual(prompts, []);
  assert.deepEqual(canary.requests, []);
});

Deno.test("a remote server may use a remote authorization server on another host: the login completes", async () => {
  const asOrigin = "https://auth.remote.test";
  const mcpOrigin = "https://mcp.remote.test";
  await using as = await startRemoteOAuth(asOrigin);
  await using mcp = await startRemoteOAuth(mcpOrigin, {
    resourceMetadata: { authorization_servers: [asOrigin] },
  });
  await using dir = await makeScratchDir();
  const fetchFn = routingFetch({ [asOrigin]: as.origin, [mcpOrigin]: mcp.origin });
  const store = new FileTokenStore({ dir: join(dir.path, "credentials") });
  let browsing: Promise<void> | undefined;
  const result = await loginWithOAuth({
    server: remoteServer(mcp.mcpUrl),
    store,
    fetch: fetchFn,
    callbackPorts: [],
    onAuthorizationUrl: (url) => {
      // The browser: the authorization server redirects to the loopback callback at once.
      browsing = followAuthorizeUrl(url.href, { fetch: fetchFn })
        .then((callback) => fetch(callback))
        .then((page) => page.body?.cancel());
    },
  });
  await browsing;
  assert.equal(result.issuer, asOrigin);
  assert.equal(
    (await store.load("remote", mcp.mcpUrl))?.tokens?.accessToken,
    "remote-access-token",
  );
  assert.ok(as.requests.includes("POST /token"));
});

Deno.test("a loopback server's discovery may stay on loopback: login to the fixture authorization server on another port works", async () => {
  await using world = await startWorld();
  assert.notEqual(new URL(world.as.issuer).port, new URL(world.mcp.url).port);
  await login(world);
  assert.ok((await world.store.load("demo", world.mcp.url))?.tokens?.accessToken);
});
