import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger, Redactor } from "../log.ts";
import { rejectsConfigError, scratchDir } from "./_testing.ts";
import { readSecret } from "./read_secret.ts";

const what = 'client secret of server "internal"';

/** Writes `text` to `file` with exactly `mode` (no umask). */
async function writeSecret(file: string, text: string, mode: number) {
  await Deno.writeTextFile(file, text);
  await Deno.chmod(file, mode);
}

function capture() {
  const lines: string[] = [];
  return { lines, logger: new Logger({ level: "debug", write: (line) => lines.push(line) }) };
}

Deno.test("readSecret() returns literal and environment values", async () => {
  assert.equal(await readSecret({ value: "literal-value" }, { what }), "literal-value");
  assert.equal(await readSecret({ env: "S", envValue: "env-value" }, { what }), "env-value");
});

Deno.test("readSecret() fails naming the variable when an env source has no value", async () => {
  const error = await rejectsConfigError(readSecret({ env: "CC_SECRET" }, { what }));
  assert.match(error.message, /"CC_SECRET"/);
});

Deno.test("readSecret() reads a file, trims trailing whitespace and re-reads it after rotation", async () => {
  await using dir = await scratchDir();
  const file = join(dir.path, "secret");
  await writeSecret(file, "first-value\n", 0o600);
  assert.equal(await readSecret({ file }, { what }), "first-value");

  // Rotate the way a Kubernetes secret volume does: a new file renamed over the old one.
  await writeSecret(join(dir.path, "secret.new"), "second-value \r\n", 0o600);
  await Deno.rename(join(dir.path, "secret.new"), file);
  assert.equal(await readSecret({ file }, { what }), "second-value");
});

Deno.test("readSecret() registers every value it returns with the redactor", async () => {
  await using dir = await scratchDir();
  const file = join(dir.path, "secret");
  await writeSecret(file, "file-secret-value\n", 0o600);
  const redactor = new Redactor();
  await readSecret({ file }, { what, redactor });
  await readSecret({ value: "literal-secret" }, { what, redactor });
  assert.doesNotMatch(
    redactor.redactText("x file-secret-value literal-secret"),
    /secret-value|literal-secret/,
  );

  const { logger } = capture();
  await readSecret({ env: "X", envValue: "env-secret-value" }, { what, logger });
  assert.doesNotMatch(logger.redactor.redactText("env-secret-value"), /env-secret-value/);
});

Deno.test("readSecret() warns, naming the file and not the value, when others can read it", async () => {
  await using dir = await scratchDir();
  const file = join(dir.path, "secret");
  await writeSecret(file, "loose-value\n", 0o640);
  const { lines, logger } = capture();
  // A separate redactor, so the warning cannot be clean merely because the logger redacted it.
  const redactor = new Redactor();
  assert.equal(await readSecret({ file }, { what, logger, redactor }), "loose-value");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /\bwarn\b/);
  assert.ok(lines[0].includes(file));
  assert.doesNotMatch(lines[0], /loose-value|redacted/);

  const warned = new Set<string>();
  await readSecret({ file }, { what, logger, redactor, warned });
  await readSecret({ file }, { what, logger, redactor, warned });
  assert.equal(lines.length, 2, "with a warned set, each file is warned about once");

  await Deno.chmod(file, 0o600);
  await readSecret({ file }, { what, logger, redactor });
  assert.equal(lines.length, 2, "a 0600 file gives no warning");
});

Deno.test("readSecret() fails naming the file when it is missing, empty or a directory", async () => {
  await using dir = await scratchDir();
  const missing = join(dir.path, "missing");
  const empty = join(dir.path, "empty");
  await writeSecret(empty, " \n", 0o600);
  for (const file of [missing, empty, dir.path]) {
    const error = await rejectsConfigError(readSecret({ file }, { what }));
    assert.ok(error.message.includes(file), error.message);
  }
});

Deno.test("readSecret() rejects with the abort reason when the signal is aborted", async () => {
  await using dir = await scratchDir();
  const file = join(dir.path, "secret");
  await writeSecret(file, "value", 0o600);
  const controller = new AbortController();
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(
    readSecret({ file }, { what, signal: controller.signal }),
    (e) => e === reason,
  );
});
