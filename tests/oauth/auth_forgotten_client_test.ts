/**
 * Defect 3 of issue 14, the `toolscript auth` side: the authorization server forgot the client
 * toolscript registered dynamically (an in-memory AS restarted). The login must notice it at the
 * authorization endpoint, in the authorization response or at the code exchange, drop the dead
 * registration, register once more and say so, instead of waiting for `--timeout`.
 */
import assert from "node:assert/strict";
import { calculateJwkThumbprint } from "jose";
import { completeAuthorizeUrl, followAuthorizeUrl } from "../fixtures/oauth_server.ts";
import type { CliProcess } from "../_helpers.ts";
import {
  authorizationUrlOf,
  freePort,
  login,
  type OAuthWorld,
  spawnAuth,
  startWorld,
} from "./_world.ts";

const SAYS_SO =
  /no longer knows the OAuth client toolscript registered \(invalid_client\); registering a new one/;

/** The authorization URL printed after `previous` (a second attempt's). */
async function nextAuthorizationUrl(cli: CliProcess, previous: string): Promise<string> {
  const escaped = previous.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const line = new RegExp(`^Open this URL to authorize demo: (?!${escaped}$)(\\S+)$`);
  return (await cli.waitForLine(line, { stream: "stderr" }))[1];
}

/** Finishes the login at `url` and checks it stored a new, working client. */
async function finishes(world: OAuthWorld, cli: CliProcess, url: string, dead: string) {
  const page = await completeAuthorizeUrl(url);
  assert.equal(page.status, 200, await page.text());
  assert.equal((await cli.status).code, 0, cli.stderr());
  assert.match(cli.stderr(), SAYS_SO);
  const doc = (await world.store.load("demo", world.mcp.url))!;
  assert.notEqual(doc.client!.clientId, dead, "a new registration");
  const verified = await world.as.verifyAccessToken(doc.tokens!.accessToken);
  assert.equal(verified?.clientId, doc.client!.clientId);
}

/**
 * Logs in on a callback port of this spec's own; returns the client id (soon dead) and the
 * `auth` arguments of the next login. The next login reuses the client only on the port it was
 * registered with: on a shared default port, another spec's login running alongside may hold it,
 * and the client would be replaced before anything could find it forgotten.
 */
async function loggedIn(world: OAuthWorld): Promise<{ dead: string; args: string[] }> {
  const pinned = ["--callback-port", String(freePort())];
  await login(world, pinned);
  const dead = (await world.store.load("demo", world.mcp.url))!.client!.clientId;
  return { dead, args: ["--timeout", "60", ...pinned] };
}

Deno.test("auth registers anew when the authorization endpoint no longer knows the client", async () => {
  await using world = await startWorld();
  const { dead, args } = await loggedIn(world);
  world.as.forgetRegisteredClients();
  const registrations = world.as.counters.register;
  await using cli = spawnAuth(world, args);
  // The first URL shown is already the new client's: the dead one is caught before.
  const url = await authorizationUrlOf(cli);
  assert.match(cli.stderr(), SAYS_SO);
  await finishes(world, cli, url, dead);
  assert.equal(world.as.counters.register, registrations + 1, "registered once more");
});

Deno.test("auth registers anew when the authorization response says invalid_client", async () => {
  await using world = await startWorld();
  const { dead, args } = await loggedIn(world);
  await using cli = spawnAuth(world, args);
  const first = await authorizationUrlOf(cli);
  // An AS that redirects back with the error instead of showing an error page.
  const params = new URL(first).searchParams;
  const redirect = new URL(params.get("redirect_uri")!);
  redirect.searchParams.set("error", "invalid_client");
  redirect.searchParams.set("state", params.get("state")!);
  redirect.searchParams.set("iss", world.as.issuer);
  world.as.forgetRegisteredClients();
  const page = await fetch(redirect);
  assert.match(await page.text(), /registers a new one/);
  await finishes(world, cli, await nextAuthorizationUrl(cli, first), dead);
});

Deno.test("auth registers anew when the token endpoint refuses the client at the code exchange", async () => {
  await using world = await startWorld();
  const { dead, args } = await loggedIn(world);
  await using cli = spawnAuth(world, args);
  const first = await authorizationUrlOf(cli);
  const callback = await followAuthorizeUrl(first);
  world.as.forgetRegisteredClients(); // between the authorization and the exchange
  const page = await fetch(callback);
  assert.match(await page.text(), /registers a new one/);
  await finishes(world, cli, await nextAuthorizationUrl(cli, first), dead);
});

Deno.test("auth registering anew after a forgotten client binds the new tokens to the DPoP key it stores", async () => {
  await using world = await startWorld({ dpop: {} });
  const { dead, args } = await loggedIn(world);
  await using cli = spawnAuth(world, args);
  const first = await authorizationUrlOf(cli);
  const callback = await followAuthorizeUrl(first);
  world.as.forgetRegisteredClients(); // the first exchange, with a DPoP proof, is refused
  const page = await fetch(callback);
  assert.match(await page.text(), /registers a new one/);
  await finishes(world, cli, await nextAuthorizationUrl(cli, first), dead);
  const doc = (await world.store.load("demo", world.mcp.url))!;
  assert.equal(doc.tokens?.tokenType?.toLowerCase(), "dpop");
  assert.ok(doc.dpopKey?.jwk.d, "the key is stored beside the tokens it binds");
  const { d: _private, ...publicJwk } = doc.dpopKey.jwk;
  const thumbprint = await calculateJwkThumbprint(publicJwk as Record<string, string>);
  assert.equal((await world.as.verifyAccessToken(doc.tokens!.accessToken))?.jkt, thumbprint);
});
