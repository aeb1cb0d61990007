import assert from "node:assert/strict";
import { GATEWAY_SERVER_NAME, gatewayConfig } from "./_server_targets.ts";
import { conformanceServerCommand } from "../fixtures/conformance_server.ts";

Deno.test("gatewayConfig() puts the fixture behind the gateway as its only server, names unchanged", () => {
  const url = "http://127.0.0.1:4000/mcp";
  assert.deepEqual(gatewayConfig({ upstream: "http", fixtureUrl: url }), {
    mcpServers: { [GATEWAY_SERVER_NAME]: { type: "http", url, prefix: "" } },
  });
  assert.deepEqual(gatewayConfig({ upstream: "stdio" }), {
    mcpServers: {
      [GATEWAY_SERVER_NAME]: {
        type: "stdio",
        ...conformanceServerCommand(["--stdio"]),
        prefix: "",
      },
    },
  });
});
