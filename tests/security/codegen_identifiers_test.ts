/**
 * Issue 12 item 4: identifiers in generated modules are what TypeScript's scanner accepts
 * (its own Unicode tables), not what the runtime's newer Unicode calls a letter. Checked by
 * feeding every code point the generator would accept to the real compiler.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScratchDir } from "../_helpers.ts";
import { isTsIdentifier, toCamelCase, toPascalCase } from "../../src/codemode/names.ts";
import { REJECTED_IDENTIFIER_CHARS } from "./_hostile_tools.ts";

async function denoCheck(source: string): Promise<{ ok: boolean; stderr: string }> {
  await using dir = await makeScratchDir();
  await Deno.writeTextFile(join(dir.path, "ids.ts"), source);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--no-config", "ids.ts"],
    cwd: dir.path,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  return { ok: output.success, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("the compiler rejects the code points that passed the old identifier check", async () => {
  for (const c of REJECTED_IDENTIFIER_CHARS) {
    assert.ok(/^\p{ID_Start}$/u.test(c), `U+${c.codePointAt(0)!.toString(16)} is a letter here`);
    assert.equal(isTsIdentifier(c), false);
    assert.equal(isTsIdentifier(`a${c}`), false);
  }
  const source = REJECTED_IDENTIFIER_CHARS.map((c, i) => `declare const v${i}${c}: 1;`).join("\n");
  assert.equal((await denoCheck(source)).ok, false);
});

Deno.test("every identifier character isTsIdentifier() accepts is accepted by the compiler", async () => {
  const starts: string[] = [];
  const parts: string[] = [];
  for (let cp = 0x80; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (isTsIdentifier(c)) starts.push(c);
    if (isTsIdentifier(`_${c}`)) parts.push(c);
  }
  assert.ok(starts.length > 100_000 && parts.length > 100_000, "Unicode letters are accepted");
  // One member per start character, each followed by a run of the part characters: every
  // character is scanned once, in the position it would have in a generated name.
  const members = starts.map((start, i) =>
    `  ${start}${parts.slice(i * 64, i * 64 + 64).join("")}: 1;`
  );
  assert.ok(starts.length * 64 >= parts.length);
  const checked = await denoCheck(`export interface Names {\n${members.join("\n")}\n}\n`);
  assert.ok(checked.ok, checked.stderr.slice(0, 4000));
});

Deno.test("names made of rejected code points become identifiers the compiler accepts", async () => {
  const names = [...REJECTED_IDENTIFIER_CHARS, "\u0264", "x-\u0264", "a\u1C8Ab", "caf\u00e9"];
  const lines = names.flatMap((name, i) => {
    const camel = toCamelCase(name);
    const pascal = toPascalCase(name);
    assert.ok(isTsIdentifier(camel) && isTsIdentifier(pascal), `${camel} / ${pascal}`);
    return [`export declare const ${camel}${i}: 1;`, `export type ${pascal}${i} = 1;`];
  });
  const checked = await denoCheck(lines.join("\n"));
  assert.ok(checked.ok, checked.stderr);
});
