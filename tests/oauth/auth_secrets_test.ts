import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";
import { Logger } from "../../src/log.ts";
import { OAuthCredentialProvider } from "../../src/auth/lifecycle/oauth_credentials.ts";
import { connectWith, freePort, login, startWorld, textOf } from "./_world.ts";

const CANARY = "canary-secret-5b0c1e7d9a";

Deno.test("no secret reaches the output of auth, a refresh or logout at debug level", async () => {
  const port = freePort();
  await using world = await startWorld({
    clients: [{
      client_id: "toolscript-pre",
      client_secret: CANARY,
      redirect_uris: [`http://127.0.0.1:${port}/callback`],
      token_endpoint_auth_method: "client_secret_basic",
      application_type: "native",
    }],
  });
  const env = { TOOLSCRIPT_LOG: "debug" };
  const cli = await login(world, [
    "--client-id",
    "toolscript-pre",
    "--client-secret",
    CANARY,
    "--callback-port",
    String(port),
  ], { env });
  const doc = await world.store.load("demo", world.mcp.url);
  assert.equal(doc?.client?.registration, "pre-registered");
  assert.equal(world.as.counters.register, 0);
  assert.match(cli.stderr(), /\[toolscript\] debug/, "debug logging was on");

  // The gateway's provider refreshes with the client secret, logging at debug.
  const lines: string[] = [];
  const provider = new OAuthCredentialProvider(world.server, {
    store: world.store,
    logger: new Logger({ level: "debug", write: (line) => lines.push(line) }),
    now: () => Date.now() + 2 * 3600_000,
  });
  await using client = await connectWith(world, provider);
  assert.equal(
    textOf(await client.callTool({ name: "echo", arguments: { text: "x" } })),
    "echo: x",
  );
  assert.equal(world.as.counters.tokenByGrant.refresh_token, 1);
  assert.ok(lines.some((line) => line.includes("Refreshed the access token")));
  const refreshed = await world.store.load("demo", world.mcp.url);

  const logout = await runCli(["logout", "demo", "--config", world.configPath], {
    home: world.home,
    env,
  });
  assert.equal(logout.code, 0, logout.stderr);

  const secrets = [
    CANARY,
    doc!.tokens!.accessToken,
    doc!.tokens!.refreshToken!,
    refreshed!.tokens!.accessToken,
    refreshed!.tokens!.refreshToken!,
  ];
  const outputs = [cli.stdout(), cli.stderr(), lines.join("\n"), logout.stdout, logout.stderr];
  for (const secret of secrets) {
    for (const output of outputs) assert.ok(!output.includes(secret), "a secret leaked");
  }
  for (const output of outputs) assert.doesNotMatch(output, /[?&]code=(?!\[redacted)/);
});
