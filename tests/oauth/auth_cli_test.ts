import assert from "node:assert/strict";
import { completeAuthorizeUrl, followAuthorizeUrl } from "../fixtures/oauth_server.ts";
import { makeScratchDir, runCli, writeConfig } from "../_helpers.ts";
import { authorizationUrlOf, freePort, login, spawnAuth, startWorld } from "./_world.ts";

Deno.test("auth completes from a redirect URL pasted on stdin", async () => {
  await using world = await startWorld();
  await using cli = spawnAuth(world, [], { keepStdinOpen: true });
  const redirect = await followAuthorizeUrl(await authorizationUrlOf(cli));
  await cli.writeStdin("not a url\n");
  await cli.writeStdin(`${redirect.href}\n`);
  const status = await cli.status;
  assert.equal(status.code, 0, cli.stderr());
  assert.equal(cli.stdout(), "Authenticated demo\n");
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(doc?.tokens?.accessToken);
});

Deno.test("auth fails at once, naming the port, when the pinned callback port is busy", async () => {
  await using world = await startWorld();
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  const result = await runCli(
    ["auth", "demo", "--no-browser", "--callback-port", String(port), "--config", world.configPath],
    { home: world.home },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`port ${port} is in use`));
  assert.doesNotMatch(result.stderr, /Open this URL/);
});

// A callback with a wrong state is ignored, not fatal: tests/security/callback_csrf_test.ts.

Deno.test("auth refuses a pasted response from a different issuer", async () => {
  await using world = await startWorld();
  await using cli = spawnAuth(world, [], { keepStdinOpen: true });
  const redirect = await followAuthorizeUrl(await authorizationUrlOf(cli));
  assert.equal(redirect.searchParams.get("iss"), world.as.issuer);
  redirect.searchParams.set("iss", "https://evil.example");
  await cli.writeStdin(`${redirect.href}\n`);
  assert.equal((await cli.status).code, 1);
  assert.match(cli.stderr(), /iss mismatch/);
  assert.equal(await world.store.load("demo", world.mcp.url), undefined);
});

Deno.test("auth shows the authorization server's error instead of completing", async () => {
  await using world = await startWorld();
  await using cli = spawnAuth(world);
  const url = new URL(await authorizationUrlOf(cli));
  const redirect = new URL(url.searchParams.get("redirect_uri")!);
  redirect.searchParams.set("error", "access_denied");
  redirect.searchParams.set("error_description", "The user said <no>");
  redirect.searchParams.set("state", url.searchParams.get("state")!);
  redirect.searchParams.set("iss", world.as.issuer);
  const page = await fetch(redirect);
  const html = await page.text();
  assert.equal(page.status, 400);
  assert.match(html, /access_denied: The user said &#60;no&#62;/);
  assert.equal((await cli.status).code, 1);
  assert.match(cli.stderr(), /access_denied/);
});

Deno.test("auth gives up after --timeout with a clear error", async () => {
  await using world = await startWorld();
  const result = await runCli(
    ["auth", "demo", "--no-browser", "--timeout", "1", "--config", world.configPath],
    { home: world.home },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /Timed out after 1 s waiting for the authorization of server "demo"/);
  assert.ok(
    result.stderr.includes(`fix: toolscript auth demo --config ${world.configPath} --timeout 600`),
    result.stderr,
  );
});

Deno.test("auth refuses at once a server configured with credentials other than OAuth", async () => {
  await using dir = await makeScratchDir();
  const url = "http://127.0.0.1:9/mcp";
  const config = await writeConfig(dir, {
    mcpServers: {
      b: { url, auth: { type: "bearer", token: "bearer-canary-7c2e" } },
      m: {
        url,
        auth: {
          type: "client_credentials",
          tokenUrl: "http://127.0.0.1:9/token",
          clientId: "id",
          clientSecret: "secret-canary-91aa",
        },
      },
    },
  });
  const [bearer, machine] = await Promise.all(
    ["b", "m"].map((name) =>
      runCli(["auth", name, "--no-browser", "--config", config], { home: dir })
    ),
  );
  assert.equal(bearer.code, 2, bearer.stderr);
  assert.match(bearer.stderr, /Server "b" uses "bearer" credentials from config/);
  assert.equal(machine.code, 2, machine.stderr);
  assert.match(machine.stderr, /Server "m" uses "client_credentials" credentials from config/);
  for (const result of [bearer, machine]) {
    assert.doesNotMatch(result.stderr, /Open this URL|canary/);
  }
});

Deno.test("auth logs in to a server without an auth block when it asks for OAuth", async () => {
  await using world = await startWorld({ auth: null });
  await using cli = spawnAuth(world);
  const page = await completeAuthorizeUrl(await authorizationUrlOf(cli));
  await page.body?.cancel();
  assert.equal((await cli.status).code, 0, cli.stderr());
  assert.equal(cli.stdout(), "Authenticated demo\n");
});

Deno.test("auth refuses an unknown server with a usage error", async () => {
  await using world = await startWorld();
  const unknown = await runCli(["auth", "nope", "--config", world.configPath], {
    home: world.home,
  });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown server "nope"/);
});

Deno.test("auth registers again when the callback port no longer matches the stored client", async () => {
  await using world = await startWorld();
  await login(world, ["--callback-port", String(freePort())]);
  await login(world, ["--callback-port", String(freePort())]);
  assert.equal(world.as.counters.register, 2);
  const doc = await world.store.load("demo", world.mcp.url);
  assert.ok(await world.as.verifyAccessToken(doc!.tokens!.accessToken));
});
