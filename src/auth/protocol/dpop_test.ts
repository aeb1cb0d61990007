import assert from "node:assert/strict";
import { decodeJwt, exportJWK, generateKeyPair } from "jose";
import { AuthError } from "../../errors.ts";
import { chooseDpopAlg, DpopKey, withDpopKey } from "./dpop.ts";

/** A loopback server answering every request with `answer`, recording each DPoP proof. */
function serve(answer: () => Response) {
  const proofs: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    proofs.push(req.headers.get("dpop"));
    await req.body?.cancel();
    return answer();
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/token`,
    proofs,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("chooseDpopAlg() honours the setting and dpop_signing_alg_values_supported", () => {
  const offering = (algs: unknown) => ({ dpop_signing_alg_values_supported: algs });
  assert.equal(chooseDpopAlg("s", offering(["ES256"]), false), undefined);
  assert.equal(chooseDpopAlg("s", offering(["EdDSA", "ES384", "ES256"]), undefined), "ES256");
  assert.equal(chooseDpopAlg("s", offering(["RS256", "ES512"]), undefined), "ES512");
  assert.equal(chooseDpopAlg("s", offering(["RS256"]), undefined), undefined);
  assert.equal(chooseDpopAlg("s", {}, undefined), undefined);
  assert.equal(chooseDpopAlg("s", {}, true), "ES256");
  assert.throws(
    () => chooseDpopAlg("s", offering(["RS256"]), true),
    (e) => e instanceof AuthError && /server "s".*RS256.*"dpop": true/.test(e.message),
  );
});

Deno.test("a stored DPoP key on the wrong curve is refused, naming the server and the fix", async () => {
  const { privateKey } = await generateKeyPair("ES384", { extractable: true });
  const jwk = await exportJWK(privateKey);
  const error = await DpopKey.fromStored("docs", { alg: "ES256", jwk }).catch((e) => e);
  assert.ok(error instanceof AuthError, String(error));
  assert.match(error.message, /DPoP key stored for server "docs" is unusable/);
  assert.match(error.message, /run: toolscript auth docs/);
  assert.ok(!error.message.includes(jwk.d!));
});

Deno.test("a persisted key round-trips through its stored form; withDpopKey sets or drops it", async () => {
  const key = await DpopKey.generate("docs", "ES256", { persist: true });
  assert.equal(key.stored?.jwk.crv, "P-256");
  const again = await DpopKey.fromStored("docs", key.stored!);
  assert.equal(
    await again.handle.calculateThumbprint(),
    await key.handle.calculateThumbprint(),
  );
  const memoryOnly = await DpopKey.generate("docs", "ES256", { persist: false });
  assert.equal(memoryOnly.stored, undefined);
  const doc = { server: "docs", dpopKey: key.stored };
  assert.equal(withDpopKey(doc, undefined).dpopKey, undefined);
  const bare: { server: string; dpopKey?: typeof key.stored } = { server: "docs" };
  assert.deepEqual(withDpopKey(bare, key).dpopKey, key.stored);
});

Deno.test("an authorization server that keeps asking for a new nonce gets one retry, then a clear error", async () => {
  let n = 0;
  await using as = serve(() =>
    Response.json({ error: "use_dpop_nonce" }, {
      status: 400,
      headers: { "dpop-nonce": `nonce-${++n}` },
    })
  );
  const key = await DpopKey.generate("docs", "ES256", { persist: false });
  const tokenFetch = key.tokenFetch(fetch);
  const error = await tokenFetch(as.url, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "r" }),
  }).catch((e) => e);
  assert.ok(error instanceof AuthError, String(error));
  assert.match(error.message, /server "docs": its authorization server asked for a new DPoP nonce/);
  assert.equal(as.proofs.length, 2);
  assert.equal(decodeJwt(as.proofs[0]!).nonce, undefined);
  assert.equal(decodeJwt(as.proofs[1]!).nonce, "nonce-1");
});

Deno.test("tokenFetch leaves requests that are not token requests alone", async () => {
  await using as = serve(() => Response.json({ client_id: "c" }, { status: 201 }));
  const key = await DpopKey.generate("docs", "ES256", { persist: false });
  const response = await key.tokenFetch(fetch)(as.url, { method: "POST", body: "{}" });
  await response.body?.cancel();
  assert.deepEqual(as.proofs, [null]);
});

Deno.test("a server that keeps asking for a new nonce gets one retry, then a clear error", async () => {
  await using rs = serve(() =>
    new Response(null, {
      status: 401,
      headers: { "www-authenticate": 'DPoP error="use_dpop_nonce"', "dpop-nonce": "rs-nonce" },
    })
  );
  const key = await DpopKey.generate("docs", "ES256", { persist: false });
  const error = await key.send(fetch, rs.url, { method: "POST", headers: {}, body: "{}" }, "tok")
    .catch((e) => e);
  assert.ok(error instanceof AuthError, String(error));
  assert.match(error.message, /server "docs": its server asked for a new DPoP nonce again/);
  assert.equal(rs.proofs.length, 2);
  assert.equal(decodeJwt(rs.proofs[1]!).nonce, "rs-nonce");
  assert.ok(decodeJwt(rs.proofs[1]!).ath, "the proof is bound to the token");
});

Deno.test("send returns a challenge that is not a nonce to the caller's 401 handling", async () => {
  await using rs = serve(() =>
    new Response(null, {
      status: 401,
      headers: { "www-authenticate": 'DPoP error="invalid_token"' },
    })
  );
  const key = await DpopKey.generate("docs", "ES256", { persist: false });
  const response = await key.send(fetch, rs.url, { method: "GET", headers: {} }, "tok");
  assert.equal(response.status, 401);
  assert.equal(rs.proofs.length, 1);
});
