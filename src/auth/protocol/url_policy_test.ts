import assert from "node:assert/strict";
import {
  checkBrowserUrl,
  checkDiscoveryUrl,
  type DiscoveryUrlPolicy,
  guardDiscoveryFetch,
  UnsafeUrlError,
} from "./url_policy.ts";

const REMOTE: DiscoveryUrlPolicy = {
  server: "remote",
  serverUrl: "https://mcp.example.com/mcp",
  allowInsecureHttp: false,
};
const LOCAL: DiscoveryUrlPolicy = {
  ...REMOTE,
  server: "local",
  serverUrl: "http://127.0.0.1:9/mcp",
};

function refused(url: string, policy: DiscoveryUrlPolicy): boolean {
  try {
    checkDiscoveryUrl(url, "token endpoint", policy);
    return false;
  } catch (error) {
    assert.ok(error instanceof UnsafeUrlError);
    assert.equal(error.kind, "token endpoint");
    return true;
  }
}

Deno.test("checkDiscoveryUrl() keeps a remote server's discovery off loopback, private, link-local, unspecified and multicast hosts", () => {
  for (
    const url of [
      "https://127.0.0.1/t",
      "https://127.1/t",
      "https://2130706433/t",
      "https://localhost/t",
      "https://LOCALHOST./t",
      "https://a.b.localhost/t",
      "https://[::1]/t",
      "https://[::ffff:127.0.0.1]/t",
      "https://[::ffff:10.1.1.1]/t",
      "https://10.0.0.1/t",
      "https://172.16.5.4/t",
      "https://172.31.255.255/t",
      "https://192.168.0.1/t",
      "https://100.64.0.1/t",
      "https://[fc00::1]/t",
      "https://[fd12:3456::1]/t",
      "https://169.254.169.254/latest/meta-data",
      "https://[fe80::1]/t",
      "https://[64:ff9b::a9fe:a9fe]/t",
      "https://0.0.0.0/t",
      "https://0/t",
      "https://[::]/t",
      "https://224.0.0.251/t",
      "https://[ff02::1]/t",
      "https://255.255.255.255/t",
    ]
  ) assert.ok(refused(url, REMOTE), url);
  for (
    const url of [
      "https://auth.example.com/t",
      "https://172.32.0.1/t",
      "https://8.8.8.8/t",
      "https://[2001:db8::1]/t",
    ]
  ) assert.ok(!refused(url, REMOTE), url);
});

Deno.test("checkDiscoveryUrl() refuses plain http and other schemes unless allowInsecureHttp allows http", () => {
  assert.ok(refused("http://auth.example.com/t", REMOTE));
  assert.ok(refused("ftp://auth.example.com/t", REMOTE));
  assert.ok(refused("file:///etc/passwd", REMOTE));
  assert.ok(refused("not a url", REMOTE));
  const insecure = { ...REMOTE, allowInsecureHttp: true };
  assert.ok(!refused("http://auth.example.com/t", insecure));
  assert.ok(refused("http://127.0.0.1/t", insecure), "the address rule still holds");
});

Deno.test("checkDiscoveryUrl() lets a loopback server's discovery stay on loopback, and any server use its own host", () => {
  assert.ok(!refused("http://127.0.0.1:4444/token", LOCAL));
  assert.ok(!refused("http://localhost:4444/token", LOCAL));
  assert.ok(!refused("https://auth.example.com/token", LOCAL));
  assert.ok(refused("https://10.0.0.1/token", LOCAL));
  const intranet = { ...REMOTE, serverUrl: "https://10.1.2.3/mcp" };
  assert.ok(!refused("https://10.1.2.3:8443/token", intranet));
  assert.ok(refused("https://10.1.2.4/token", intranet));
});

Deno.test("UnsafeUrlError names the server, the kind and the URL without its query", () => {
  const url = "https://u:pw@10.0.0.1/cb?token=s3cret#x";
  assert.throws(
    () => checkDiscoveryUrl(url, "resource metadata URL", REMOTE),
    (error: unknown) =>
      error instanceof UnsafeUrlError && error.url === "https://10.0.0.1/cb" &&
      error.server === "remote" && error.kind === "resource metadata URL" &&
      error.code === "auth_failed" && !/s3cret|pw/.test(error.message),
  );
});

Deno.test("guardDiscoveryFetch() follows a redirect only to an allowed target", async () => {
  const canaryHits: string[] = [];
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ready.resolve }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/canary") canaryHits.push(url.pathname);
    if (url.pathname === "/to-canary") {
      return new Response(null, {
        status: 302,
        headers: { location: `http://127.0.0.1:${url.port}/canary` },
      });
    }
    if (url.pathname === "/to-public") {
      return new Response(null, {
        status: 302,
        headers: { location: "https://mcp.example.com/ok" },
      });
    }
    return Response.json({ path: url.pathname });
  });
  const port = (await ready.promise).port;
  // The server poses as https://mcp.example.com: requests to it are routed to the loopback port.
  const route: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    return fetch(`http://127.0.0.1:${port}${url.pathname}`, init);
  };
  try {
    const guarded = guardDiscoveryFetch(route, REMOTE);
    await assert.rejects(
      guarded("https://mcp.example.com/to-canary"),
      (error: unknown) => error instanceof UnsafeUrlError && error.kind === "redirect target",
    );
    assert.deepEqual(canaryHits, []);
    const ok = await guarded("https://mcp.example.com/to-public");
    assert.deepEqual(await ok.json(), { path: "/ok" });
    const manual = await guarded("https://mcp.example.com/to-canary", { redirect: "manual" });
    assert.equal(manual.status, 302, "a manual redirect is the caller's to judge");
    await manual.body?.cancel();
    await assert.rejects(guarded("http://127.0.0.1:1/x"), UnsafeUrlError);
  } finally {
    await server.shutdown();
  }
});

Deno.test("checkBrowserUrl() lets only https and loopback http through to the browser", () => {
  const rules = { server: "s", allowInsecureHttp: false };
  assert.equal(
    checkBrowserUrl("https://as.example/device?c=1", "verification_uri", rules),
    "https://as.example/device?c=1",
  );
  assert.equal(
    checkBrowserUrl("http://127.0.0.1:8/d", "verification_uri", rules),
    "http://127.0.0.1:8/d",
  );
  for (
    const url of [
      "file:///etc/passwd",
      "vscode://x/y",
      "javascript:alert(1)",
      "http://as.example/d",
      "nope",
    ]
  ) {
    assert.throws(() => checkBrowserUrl(url, "verification_uri", rules), UnsafeUrlError, url);
  }
  assert.equal(
    checkBrowserUrl("http://as.example/d", "verification_uri", {
      ...rules,
      allowInsecureHttp: true,
    }),
    "http://as.example/d",
  );
});
