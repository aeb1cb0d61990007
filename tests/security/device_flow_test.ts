/**
 * Issue 12 item 7 (device flow): `verification_uri` / `verification_uri_complete` reach the
 * terminal and the browser opener only when https (or loopback http), and the `user_code` is
 * printed without control characters. `toolscript auth --device` runs in-process so its fetch
 * reaches a hostile authorization server posing as `https://device.hostile.test` and its
 * browser opener is a recorder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UnsafeUrlError } from "../../src/auth/protocol/url_policy.ts";
import { makeScratchDir, writeConfig } from "../_helpers.ts";
import { runCliInProcess } from "./_cli_io.ts";
import { type RemoteShape, routingFetch, startRemoteOAuth } from "./_remote_oauth.ts";

const ORIGIN = "https://device.hostile.test";

async function runDeviceLogin(shape: RemoteShape) {
  await using remote = await startRemoteOAuth(ORIGIN, shape);
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, {
    mcpServers: { demo: { type: "http", url: remote.mcpUrl, auth: { type: "oauth" } } },
  });
  const result = await runCliInProcess(["auth", "demo", "--device", "--config", config], {
    home: join(dir.path, "home"),
    fetch: routingFetch({ [ORIGIN]: remote.origin }),
    openBrowser: () => Promise.resolve(true),
  });
  return { ...result, requests: remote.requests };
}

for (
  const [field, value] of [
    ["verification_uri_complete", "file:///etc/passwd"],
    ["verification_uri_complete", "vscode://vscode.git/clone?url=https://evil.example/x"],
    ["verification_uri", "javascript:alert(document.cookie)"],
    ["verification_uri", "http://device.hostile.test/activate"],
  ]
) {
  Deno.test(`auth --device refuses ${field} "${value}": nothing printed, the opener never called`, async () => {
    const result = await runDeviceLogin({ device: { [field]: value } });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.error instanceof UnsafeUrlError);
    assert.equal(result.error.kind, field);
    assert.deepEqual(result.opened, []);
    assert.doesNotMatch(result.stderr, /Open this URL|confirm the code/);
    assert.ok(!result.requests.includes("POST /token"), "no polling");
  });
}

Deno.test("auth --device prints the user code without its terminal escapes and logs in", async () => {
  const result = await runDeviceLogin({
    device: { user_code: "WDJB\x1b[2J\x1b]0;owned\x07-MJHT\u202e\r\nAuthenticated demo" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Authenticated demo\n");
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(result.stderr, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
  const line = result.stderr.split("\n").find((l) => l.startsWith("Then confirm the code: "));
  assert.equal(line, "Then confirm the code: WDJB[2J]0;owned-MJHT Authenticated demo");
  assert.deepEqual(result.opened, [`${ORIGIN}/activate?user_code=WDJB-MJHT`]);
  assert.match(
    result.stderr,
    /^Open this URL to authorize demo: https:\/\/device\.hostile\.test\/activate\?user_code=WDJB-MJHT$/m,
  );
});
