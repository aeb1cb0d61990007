/**
 * Issue 12 item 13: a gateway bound to a wildcard address (`0.0.0.0`, `::`) used to accept any
 * `Host`, so a web page whose DNS name was rebound to this machine could call it. The Host check
 * now holds on every bind: loopback names, the bound address and `gateway.allowedHosts`.
 */
import assert from "node:assert/strict";
import { spawnTokenGateway } from "../_helpers.ts";

const TOKEN = `canary-host-check-${crypto.randomUUID()}`;

/** Sends one GET /health with the given Host (and Origin) over loopback; returns the status. */
async function statusFor(port: number, host: string, origin?: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const request = `GET /health HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
    (origin ? `Origin: ${origin}\r\n` : "") + "Connection: close\r\n\r\n";
  await conn.write(new TextEncoder().encode(request));
  const reply = new TextDecoder().decode(await new Response(conn.readable).bytes());
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);
}

// The token keeps the wildcard-bound gateway closed to anything but this spec.
const startWildcardGateway = (gateway: Record<string, unknown>) =>
  spawnTokenGateway(TOKEN, { gateway, args: ["--host", "0.0.0.0"] });

Deno.test("a wildcard-bound gateway refuses a rebound foreign Host with 403", async () => {
  await using gateway = await startWildcardGateway({});
  const { port } = gateway;
  assert.equal(await statusFor(port, `evil.example:${port}`, `http://evil.example:${port}`), 403);
  assert.equal(await statusFor(port, `evil.example:${port}`), 403);
  assert.equal(await statusFor(port, `127.0.0.1:${port}`), 200);
  assert.equal(await statusFor(port, `localhost:${port}`), 200);
  assert.equal(await statusFor(port, `0.0.0.0:${port}`), 200);
});

Deno.test("gateway.allowedHosts names the hosts a wildcard-bound gateway also answers to", async () => {
  await using gateway = await startWildcardGateway({ allowedHosts: ["GW.example", "10.0.0.7"] });
  const { port } = gateway;
  assert.equal(await statusFor(port, `gw.example:${port}`), 200);
  assert.equal(await statusFor(port, `10.0.0.7:${port}`), 200);
  assert.equal(await statusFor(port, `gw.example:${port}`, `http://gw.example:${port}`), 200);
  assert.equal(await statusFor(port, `gw.example:${port}`, "http://evil.example"), 403);
  assert.equal(await statusFor(port, `evil.example:${port}`), 403);
});
