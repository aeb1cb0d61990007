import assert from "node:assert/strict";
import { makeScratchDir, runCli, spawnCli, writeConfig } from "../_helpers.ts";
import { startHttpMcpServer } from "../fixtures/http_server.ts";
import { stdioServerCommand } from "../fixtures/stdio_server.ts";

Deno.test("types prints the declarations of every server's tools, or of the filtered ones", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: { local: stdioServerCommand(), web: { type: "http", url: web.url } },
  });
  const run = (...args: string[]) => runCli(["types", "--config", config, ...args], { home: dir });
  const [all, filtered, unknown] = await Promise.all([
    run(),
    run("--filter", "web__add,local"),
    run("--filter", "web__nope"),
  ]);

  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^export declare const tools: \{$/m);
  assert.match(all.stdout, /^export declare class ToolError extends Error \{$/m);
  assert.match(all.stdout, /^ {4}add\(params: WebAddParams\): Promise<WebAddResult>;$/m);
  assert.match(all.stdout, /^ {4}echo\(params: LocalEchoParams\): Promise<LocalEchoResult>;$/m);
  assert.match(all.stdout, /\* Adds two numbers\.\n/);
  assert.doesNotMatch(all.stdout, /fetch\(|127\.0\.0\.1/);

  assert.equal(filtered.code, 0, filtered.stderr);
  assert.match(filtered.stdout, /^ {4}add\(params: WebAddParams\)/m);
  assert.doesNotMatch(filtered.stdout, /WebEchoParams/);
  assert.match(filtered.stdout, /^ {4}echo\(params: LocalEchoParams\)/m);

  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /No server or tool named "web__nope"/);
});

Deno.test("search ranks tools by name and description, as lines or JSON", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: { local: stdioServerCommand(), web: { type: "http", url: web.url } },
  });
  const run = (...args: string[]) => runCli(["search", "--config", config, ...args], { home: dir });
  const [lines, json, none] = await Promise.all([
    run("echo", "text", "--limit", "2"),
    run("sum", "--json", "--limit", "1"),
    run("zebra"),
  ]);

  assert.equal(lines.code, 0, lines.stderr);
  const rows = lines.stdout.trimEnd().split("\n");
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.match(row, /^(local|web)__echo\tEchoes the text back, prefixed with `echo: `\.$/);
  }

  assert.equal(json.code, 0, json.stderr);
  const hits = JSON.parse(json.stdout);
  assert.equal(hits.length, 1);
  assert.match(hits[0].id, /^(local|web)__add$/);
  assert.equal(hits[0].summary, "Adds two numbers.");

  assert.equal(none.code, 0);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /No tool matches "zebra"/);
});

Deno.test("types and search read the running gateway when TOOLSCRIPT_GATEWAY_URL is set", async () => {
  await using dir = await makeScratchDir();
  await using web = await startHttpMcpServer({ name: "web" });
  const config = await writeConfig(dir, {
    mcpServers: { "my-web": { type: "http", url: web.url } },
  });
  const token = `gateway-${crypto.randomUUID()}`;
  await using gateway = spawnCli(["gateway", "--config", config, "--port", "0"], {
    home: dir,
    env: { TOOLSCRIPT_GATEWAY_TOKEN: token },
  });
  const [, url] = await gateway.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  // No config anywhere: everything comes from the gateway.
  const env = { TOOLSCRIPT_GATEWAY_URL: url, TOOLSCRIPT_GATEWAY_TOKEN: token };
  const [types, search, withConfig] = await Promise.all([
    runCli(["types", "--filter", "my-web__add"], { home: dir, env }),
    runCli(["search", "add"], { home: dir, env }),
    runCli(["search", "add", "--config", `${dir.path}/elsewhere.json`], { home: dir, env }),
  ]);
  assert.equal(types.code, 0, types.stderr);
  assert.match(types.stdout, /^ {2}myWeb: \{$/m);
  assert.match(types.stdout, /^ {4}add\(params: MyWebAddParams\): Promise<MyWebAddResult>;$/m);
  assert.doesNotMatch(types.stdout, /echo\(/);
  assert.equal(search.code, 0, search.stderr);
  assert.equal(search.stdout.split("\n")[0], "my-web__add\tAdds two numbers.");
  assert.doesNotMatch(search.stderr, /--config/);
  // The running gateway has its own config: a --config is ignored, and the user is told.
  assert.equal(withConfig.code, 0, withConfig.stderr);
  assert.equal(withConfig.stdout, search.stdout);
  assert.match(withConfig.stderr, /warn .*running gateway.*ignoring --config/);
});
