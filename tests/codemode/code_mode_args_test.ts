import assert from "node:assert/strict";
import { UsageError } from "../../src/errors.ts";
import { parseExecArgs } from "../../src/cli/exec.ts";
import { parseTypesArgs } from "../../src/cli/types.ts";
import { parseSearchArgs } from "../../src/cli/search.ts";

Deno.test("parseExecArgs() takes code or --file, and a timeout in seconds (default 300)", () => {
  assert.deepEqual(parseExecArgs(["console.log(1)"]), {
    config: undefined,
    help: false,
    code: "console.log(1)",
    file: undefined,
    timeoutMs: 300_000,
  });
  const fromFile = parseExecArgs(["--file", "p.ts", "--timeout", "2.5"]);
  assert.equal(fromFile.file, "p.ts");
  assert.equal(fromFile.timeoutMs, 2500);
  assert.equal(parseExecArgs(["--help"]).help, true);
});

Deno.test("parseExecArgs() refuses no program, two programs, and a bad timeout", () => {
  for (
    const argv of [[], ["x", "--file", "p.ts"], ["x", "--timeout", "0"], ["x", "--timeout", "soon"]]
  ) {
    assert.throws(() => parseExecArgs(argv), UsageError, JSON.stringify(argv));
  }
});

Deno.test("parseTypesArgs() splits --filter lists and accepts the flag more than once", () => {
  assert.deepEqual(parseTypesArgs([]).filter, []);
  assert.deepEqual(parseTypesArgs(["--filter", "a, b__c", "--filter", "d"]).filter, [
    "a",
    "b__c",
    "d",
  ]);
  assert.throws(() => parseTypesArgs(["extra"]), UsageError);
});

Deno.test("parseSearchArgs() joins the words of the query and checks --limit", () => {
  const args = parseSearchArgs(["add", "two", "numbers", "--limit", "3", "--json"]);
  assert.equal(args.query, "add two numbers");
  assert.equal(args.limit, 3);
  assert.equal(args.json, true);
  assert.equal(parseSearchArgs(["x"]).limit, 10);
  assert.throws(() => parseSearchArgs([]), UsageError);
  assert.throws(() => parseSearchArgs(["x", "--limit", "0"]), UsageError);
  assert.throws(() => parseSearchArgs(["x", "--limit", "many"]), UsageError);
});
