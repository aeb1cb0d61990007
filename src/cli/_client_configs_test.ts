import assert from "node:assert/strict";
import { inputVariable, mapServer } from "./_client_configs.ts";

const paths = { home: "/home/me", cwd: "/work/app" };

Deno.test("mapServer() maps types: streamable-http to http, url alone to http, command alone to stdio", () => {
  assert.equal(mapServer({ type: "streamable-http", url: "https://a" }, paths).entry?.type, "http");
  assert.equal(mapServer({ url: "https://a" }, paths).entry?.type, "http");
  assert.equal(mapServer({ command: "x" }, paths).entry?.type, "stdio");
  assert.match(mapServer({ type: "ws", url: "wss://a" }, paths).reason ?? "", /not stdio/);
});

Deno.test("mapServer() rewrites variable forms and refuses ones it cannot expand", () => {
  const mapped = mapServer({
    command: "node",
    args: ["${workspaceFolder}/s.js", "${env:PORT}", "${X:-d}"],
    env: { K: "${input:my.key}" },
    disabled: true,
    autoApprove: ["t"],
  }, paths);
  assert.deepEqual(mapped.entry, {
    type: "stdio",
    command: "node",
    args: ["/work/app/s.js", "${PORT}", "${X:-d}"],
    env: { K: "${MY_KEY}" },
    enabled: false,
  });
  assert.deepEqual(mapped.ignored, ["autoApprove"]);
  assert.deepEqual(mapped.inputs, [["my.key", "MY_KEY"]]);
  assert.ok(mapServer({ command: "x", args: ["${config:a.b}"] }, paths).reason);
  assert.equal(inputVariable("1-key"), "_1_KEY");
});
