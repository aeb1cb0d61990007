import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { parseAddArgs, serverEntry } from "./add.ts";

Deno.test("parseAddArgs() takes everything after -- as the command line, flags included", () => {
  const args = parseAddArgs(["fs", "--env", "A=1=2", "--", "npx", "-y", "pkg", "--config", "x"]);
  assert.equal(args.transport, "stdio");
  assert.equal(args.config, undefined);
  assert.deepEqual(serverEntry(args), {
    type: "stdio",
    command: "npx",
    args: ["-y", "pkg", "--config", "x"],
    env: { A: "1=2" },
  });
});

Deno.test("parseAddArgs() defaults a URL to http and splits a header at its first colon", () => {
  const args = parseAddArgs(["docs", "https://d.example/mcp", "--header", "X-A:  b: c"]);
  assert.deepEqual(serverEntry(args), {
    type: "http",
    url: "https://d.example/mcp",
    headers: { "X-A": "b: c" },
  });
});

Deno.test("parseAddArgs() refuses mismatched transports and malformed pairs", () => {
  for (
    const argv of [
      ["a", "https://x.example", "--transport", "stdio"],
      ["a", "--transport", "sse", "--", "node"],
      ["a", "https://x.example", "--header", "novalue"],
      ["a", "https://x.example", "--header", ": v"],
      ["a", "--env", "=v", "--", "node"],
      ["a"],
      ["a", "https://x.example", "extra"],
    ]
  ) {
    assert.throws(() => parseAddArgs(argv), UsageError, JSON.stringify(argv));
  }
});
