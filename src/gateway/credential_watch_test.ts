import assert from "node:assert/strict";
import { Logger } from "../log.ts";
import type { Config } from "../config/types.ts";
import { Gateway } from "./gateway.ts";
import { watchCredentials } from "./credential_watch.ts";

/** A gateway over one http server that is never started (nothing is connected). */
function idleGateway(lines: string[]): Gateway {
  const config: Config = {
    source: "flag",
    gateway: { host: "127.0.0.1", port: 0 },
    servers: [{
      name: "remote",
      type: "http",
      url: "http://127.0.0.1:9/mcp",
      headers: {},
      allowInsecureHttp: false,
      enabled: true,
      allowUnauthenticated: false,
      timeoutMs: 1_000,
    }],
    secrets: [],
  };
  return new Gateway(config, {
    logger: new Logger({ level: "info", write: (l) => lines.push(l) }),
  });
}

Deno.test("watchCredentials() warns once per distinct store error, and takes no error for a change", async () => {
  const lines: string[] = [];
  await using gateway = idleGateway(lines);
  const errors = [
    "EACCES: permission denied",
    "EACCES: permission denied",
    'Refusing credential file "/x/remote.json": owned by another user',
    "EACCES: permission denied",
    'Refusing credential file "/x/remote.json": owned by another user',
  ];
  const done = Promise.withResolvers<void>();
  let calls = 0;
  const stop = watchCredentials(gateway, {
    intervalMs: 1,
    version: (server) => {
      assert.equal(server, "remote");
      const message = errors[calls++];
      if (calls === errors.length) {
        stop();
        done.resolve();
      }
      return Promise.reject(new Error(message));
    },
  });
  await done.promise;
  const warnings = lines.filter((l) => l.includes(" warn "));
  assert.equal(warnings.length, 2, lines.join("\n"));
  assert.match(warnings[0], /cannot read the stored credentials of server "remote".*EACCES/);
  assert.match(warnings[1], /owned by another user/);
  assert.ok(!lines.some((l) => l.includes("reconnecting")), lines.join("\n"));
  assert.equal(gateway.upstreams.get("remote")?.state, "connecting");
});
