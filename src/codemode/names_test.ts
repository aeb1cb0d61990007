import assert from "node:assert/strict";
import { assignUniqueNames, splitWords, toCamelCase, toPascalCase } from "./names.ts";

const CASES: Array<[input: string, camel: string, pascal: string]> = [
  ["my-calc", "myCalc", "MyCalc"],
  ["add_numbers", "addNumbers", "AddNumbers"],
  ["getUser", "getUser", "GetUser"],
  ["GetHTTPStatus", "getHttpStatus", "GetHttpStatus"],
  ["list.files v2", "listFilesV2", "ListFilesV2"],
  ["base64_encode", "base64Encode", "Base64Encode"],
  ["2fa-login", "_2faLogin", "_2faLogin"],
  ["delete", "delete_", "Delete"],
  ["__proto__", "proto", "Proto"],
  ["café-menu", "caféMenu", "CaféMenu"],
  ["---", "_", "_"],
  ["", "_", "_"],
];

for (const [input, camel, pascal] of CASES) {
  Deno.test(`toCamelCase() turns ${JSON.stringify(input)} into ${camel}`, () => {
    assert.equal(toCamelCase(input), camel);
  });
  Deno.test(`toPascalCase() turns ${JSON.stringify(input)} into ${pascal}`, () => {
    assert.equal(toPascalCase(input), pascal);
  });
}

Deno.test("splitWords() splits at separators and case changes but keeps digits", () => {
  assert.deepEqual(splitWords("getHTTPResponse_v2-final"), [
    "get",
    "HTTP",
    "Response",
    "v2",
    "final",
  ]);
});

Deno.test("assignUniqueNames() gives the first name in sorted order the plain identifier", () => {
  const names = assignUniqueNames(["get_user", "get-user", "getUser", "list"]);
  assert.deepEqual([...names], [
    ["get-user", "getUser"],
    ["getUser", "getUser_2"],
    ["get_user", "getUser_3"],
    ["list", "list"],
  ]);
});

Deno.test("assignUniqueNames() does not depend on input order", () => {
  const a = assignUniqueNames(["b-c", "b_c", "a"]);
  const b = assignUniqueNames(["a", "b_c", "b-c"]);
  assert.deepEqual([...a].sort(), [...b].sort());
});

Deno.test("assignUniqueNames() numbers reserved-word collisions without doubling the underscore", () => {
  const names = assignUniqueNames(["delete", "Delete"]);
  assert.equal(names.get("Delete"), "delete_");
  assert.equal(names.get("delete"), "delete_2");
});

Deno.test("assignUniqueNames() avoids taken identifiers and applies the given transform", () => {
  const names = assignUniqueNames(["my-calc"], { transform: toPascalCase, taken: ["MyCalc"] });
  assert.equal(names.get("my-calc"), "MyCalc_2");
});
