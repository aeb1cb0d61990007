/**
 * Issue 12 item 8: a local process that probes the loopback callback, or a stray paste, can
 * neither abort a pending `toolscript auth` nor finish it. A callback with a wrong or missing
 * `state`, or a malformed one, gets an error page and is ignored; a pasted URL must match the
 * redirect URI and carry the state. The real login then still completes.
 */
import assert from "node:assert/strict";
import { completeAuthorizeUrl, followAuthorizeUrl } from "../fixtures/oauth_server.ts";
import { authorizationUrlOf, spawnAuth, startWorld } from "../oauth/_world.ts";

const ATTACKER_CODE = "attacker-code-5c1d";

Deno.test("wrong-state, state-less and malformed callbacks are ignored; the right one then logs in", async () => {
  await using world = await startWorld();
  await using cli = spawnAuth(world);
  const authorizationUrl = new URL(await authorizationUrlOf(cli));
  const callback = new URL(authorizationUrl.searchParams.get("redirect_uri")!);
  const state = authorizationUrl.searchParams.get("state")!;
  const forged = (params: [string, string][]) => {
    const url = new URL(callback);
    for (const [key, value] of params) url.searchParams.append(key, value);
    return url;
  };
  const attacks = [
    forged([["code", ATTACKER_CODE], ["state", "forged-state-value"]]),
    forged([["code", ATTACKER_CODE]]),
    forged([["error", "access_denied"], ["state", "forged"]]),
    forged([["code", ATTACKER_CODE], ["state", state], ["state", "forged"]]),
    forged([["state", state]]),
  ];
  for (const url of attacks) {
    const page = await fetch(url);
    const html = await page.text();
    assert.equal(page.status, 400, url.search);
    assert.match(html, /Authorization failed/);
    assert.doesNotMatch(html, new RegExp(ATTACKER_CODE));
  }
  assert.equal(world.as.counters.tokenByGrant.authorization_code ?? 0, 0, "no code exchanged");
  const page = await completeAuthorizeUrl(authorizationUrl.href);
  assert.equal(page.status, 200, await page.text());
  assert.equal((await cli.status).code, 0, cli.stderr());
  assert.equal(cli.stdout(), "Authenticated demo\n");
  assert.match(
    cli.stderr(),
    /Ignored an authorization response for "demo": its state is not this login's/,
  );
  assert.ok((await world.store.load("demo", world.mcp.url))?.tokens?.accessToken);
  assert.equal(world.as.counters.tokenByGrant.authorization_code, 1);
});

Deno.test("a pasted URL with the right code is ignored unless it matches the redirect URI and state", async () => {
  await using world = await startWorld();
  await using cli = spawnAuth(world, [], { keepStdinOpen: true });
  const redirect = await followAuthorizeUrl(await authorizationUrlOf(cli));
  const variants: [string, (url: URL) => void][] = [
    ["other port", (url) => url.port = String(Number(url.port) === 1 ? 2 : 1)],
    ["other path", (url) => url.pathname = "/elsewhere"],
    ["other host", (url) => url.hostname = "localhost"],
    ["other scheme", (url) => url.protocol = "https:"],
  ];
  for (const [, change] of variants) {
    const url = new URL(redirect);
    change(url);
    await cli.writeStdin(`${url.href}\n`);
  }
  await cli.waitForLine(/Ignored an authorization response.*redirect URI/, { stream: "stderr" });
  const wrongState = new URL(redirect);
  wrongState.searchParams.set("state", "forged-state-value");
  await cli.writeStdin(`${wrongState.href}\n`);
  await cli.waitForLine(/Ignored an authorization response.*state is not this login's/, {
    stream: "stderr",
  });
  assert.equal(world.as.counters.tokenByGrant.authorization_code ?? 0, 0, "no code exchanged");
  await cli.writeStdin(`${redirect.href}\n`);
  assert.equal((await cli.status).code, 0, cli.stderr());
  const ignored = cli.stderr().match(/Ignored an authorization response/g) ?? [];
  assert.equal(ignored.length, variants.length + 1, cli.stderr());
  assert.ok((await world.store.load("demo", world.mcp.url))?.tokens?.accessToken);
});

Deno.test("a wrong-state callback does not keep a login from timing out", async () => {
  await using world = await startWorld();
  await using cli = spawnAuth(world, ["--timeout", "3"]);
  const authorizationUrl = new URL(await authorizationUrlOf(cli));
  const callback = new URL(authorizationUrl.searchParams.get("redirect_uri")!);
  callback.searchParams.set("code", ATTACKER_CODE);
  callback.searchParams.set("state", "forged");
  await (await fetch(callback)).body?.cancel();
  assert.equal((await cli.status).code, 1);
  assert.match(cli.stderr(), /Timed out after 3 s/);
  assert.equal(await world.store.load("demo", world.mcp.url), undefined);
});
