import assert from "node:assert/strict";
import { makeScratchDir, runCli, spawnCli, writeConfig } from "../_helpers.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

const PROGRAM = `import { tools } from "toolscript";
console.log(await tools.local.echo({ text: "prefixed" }));
`;

Deno.test("exec calls a prefixed server's tools by their exposed names, in-process and through a gateway", async () => {
  await using dir = await makeScratchDir();
  const config = await writeConfig(dir, {
    mcpServers: { local: { ...stdioServerCommand(), prefix: "w", tools: { allow: ["echo"] } } },
  });
  const own = await runCli(["exec", "--config", config, PROGRAM], { home: dir });
  assert.equal(own.code, 0, own.stderr);
  assert.equal(own.stdout, "echo: prefixed\n");

  await using gateway = spawnCli(["gateway", "--config", config, "--port", "0"], { home: dir });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  const running = await runCli(["exec", PROGRAM], {
    home: dir,
    env: { TOOLSCRIPT_GATEWAY_URL: url },
  });
  assert.equal(running.code, 0, running.stderr);
  assert.equal(running.stdout, "echo: prefixed\n");
});
