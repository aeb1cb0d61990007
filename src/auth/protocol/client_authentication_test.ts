import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { clientSecretBasic } from "./client_authentication.ts";

async function basicHeader(clientId: string, secret: string): Promise<string> {
  const headers = new Headers();
  const as: oauth.AuthorizationServer = { issuer: "https://as.example" };
  await clientSecretBasic(secret)(as, { client_id: clientId }, new URLSearchParams(), headers);
  return atob(headers.get("authorization")!.replace(/^Basic /, ""));
}

Deno.test("clientSecretBasic() sends IDs and secrets made of unreserved characters as they are", async () => {
  assert.equal(
    await basicHeader("conformance-test-client", "conformance-test.secret_~"),
    "conformance-test-client:conformance-test.secret_~",
  );
});

Deno.test("clientSecretBasic() percent-encodes the colon and other reserved characters", async () => {
  const decoded = await basicHeader("a:b", "p+q/r=s%");
  assert.equal(decoded, "a%3Ab:p%2Bq%2Fr%3Ds%25");
  const [id, secret] = decoded.split(":").map(decodeURIComponent);
  assert.deepEqual([id, secret], ["a:b", "p+q/r=s%"]);
});
