import assert from "node:assert/strict";
import { AuthError } from "../../errors.ts";
import { sanitizeAuthorizationError, startLoopbackCallback } from "./loopback_callback.ts";

const ok = () => Promise.resolve({ ok: true, message: "Done <now>." });

Deno.test("startLoopbackCallback() refuses a busy pinned port, naming it", () => {
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  assert.throws(
    () => startLoopbackCallback({ port, onCallback: ok, server: "demo" }),
    (error: unknown) =>
      error instanceof AuthError && error.message.includes(`port ${port} is in use`),
  );
});

Deno.test("startLoopbackCallback() skips busy preferred ports and falls back to any free port", async () => {
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const taken = (busy.addr as Deno.NetAddr).port;
  await using callback = startLoopbackCallback({
    preferredPorts: [taken],
    onCallback: ok,
    server: "demo",
  });
  assert.notEqual(callback.port, taken);
  assert.equal(callback.redirectUri, `http://127.0.0.1:${callback.port}/callback`);
});

Deno.test("the callback page shows the escaped outcome and never the code", async () => {
  const seen: URL[] = [];
  await using callback = startLoopbackCallback({
    preferredPorts: [],
    onCallback: (url) => {
      seen.push(url);
      return ok();
    },
    server: "demo",
  });
  const response = await fetch(`${callback.redirectUri}?code=secret-code-123&state=s`);
  const html = await response.text();
  assert.equal(response.status, 200);
  assert.match(html, /Done &#60;now&#62;\./);
  assert.doesNotMatch(html, /secret-code-123/);
  assert.equal(seen[0].searchParams.get("code"), "secret-code-123");

  const other = await fetch(`http://127.0.0.1:${callback.port}/favicon.ico`);
  await other.body?.cancel();
  assert.equal(other.status, 404);
  const bare = await fetch(callback.redirectUri);
  await bare.body?.cancel();
  assert.equal(bare.status, 400);
  assert.equal(seen.length, 1, "only authorization responses reach the flow");
});

Deno.test("sanitizeAuthorizationError() keeps printable ASCII and bounds the length", () => {
  assert.equal(
    sanitizeAuthorizationError("access_denied", "No\u0000 way\u202e"),
    "access_denied: No way",
  );
  assert.equal(sanitizeAuthorizationError("x", "y".repeat(500)).length, "x: ".length + 200);
  assert.equal(sanitizeAuthorizationError("\u0001"), "unknown_error");
});
