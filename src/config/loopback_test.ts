import assert from "node:assert/strict";
import { isLoopbackHost } from "./loopback.ts";

Deno.test("isLoopbackHost() accepts localhost, 127.0.0.0/8 and [::1] in any case", () => {
  for (const url of ["http://localhost/", "http://LOCALHOST:1/", "http://127.0.0.1/"]) {
    assert.equal(isLoopbackHost(new URL(url).hostname), true, url);
  }
  for (const host of ["127.1.2.3", "[::1]", "LocalHost"]) {
    assert.equal(isLoopbackHost(host), true, host);
  }
});

Deno.test("isLoopbackHost() refuses other hosts, including look-alikes", () => {
  for (
    const host of ["example.com", "127.0.0.1.example.com", "foo.localhost", "0.0.0.0", "[::2]"]
  ) {
    assert.equal(isLoopbackHost(host), false, host);
  }
  assert.equal(isLoopbackHost(new URL("http://127.0.0.1.nip.io/").hostname), false);
});
