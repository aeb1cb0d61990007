import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { parseAuthArgs } from "./auth.ts";
import { parseLogoutArgs } from "./logout.ts";

Deno.test("parseAuthArgs() reads every flag", () => {
  const args = parseAuthArgs([
    "github",
    "--no-browser",
    "--callback-port",
    "8765",
    "--client-id",
    "abc",
    "--client-secret",
    "s3",
    "--scope",
    "repo read:org",
    "--timeout",
    "60",
    "--device",
    "--config",
    "c.json",
  ]);
  assert.deepEqual(args, {
    config: "c.json",
    help: false,
    server: "github",
    browser: false,
    callbackPort: 8765,
    clientId: "abc",
    clientSecret: "s3",
    scopes: ["repo", "read:org"],
    timeoutMs: 60_000,
    device: true,
  });
});

Deno.test("parseAuthArgs() defaults to a browser, 300 s and no scope override", () => {
  const args = parseAuthArgs(["demo"]);
  assert.equal(args.browser, true);
  assert.equal(args.timeoutMs, 300_000);
  assert.equal(args.scopes, undefined);
  assert.equal(args.device, false);
});

Deno.test("parseAuthArgs() refuses bad usage", () => {
  for (
    const argv of [
      [],
      ["a", "b"],
      ["demo", "--callback-port", "0"],
      ["demo", "--callback-port", "x"],
      ["demo", "--timeout", "-1"],
      ["demo", "--client-secret", "s"],
      ["demo", "--bogus"],
    ]
  ) {
    assert.throws(() => parseAuthArgs(argv), UsageError, JSON.stringify(argv));
  }
});

Deno.test("parseLogoutArgs() takes exactly one server", () => {
  assert.equal(parseLogoutArgs(["demo"]).server, "demo");
  assert.throws(() => parseLogoutArgs([]), UsageError);
});
