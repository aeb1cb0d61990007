import assert from "node:assert/strict";
import { fingerprint, Logger, parseLogLevel, Redactor, stripControlChars } from "./log.ts";

Deno.test("Redactor removes registered secrets wherever they appear", () => {
  const redactor = new Redactor();
  redactor.addSecret("s3cr3t-value-1");
  const out = redactor.redactText("header X-Key: s3cr3t-value-1, again s3cr3t-value-1");
  assert.ok(!out.includes("s3cr3t-value-1"));
  assert.match(out, new RegExp(`\\[redacted:${fingerprint("s3cr3t-value-1")}\\]`));
});

Deno.test("Redactor removes bearer and basic credentials and secret URL parameters", () => {
  const redactor = new Redactor();
  const out = redactor.redactText(
    "Authorization: Bearer abc.def.ghi Basic dXNlcjpwYXNz " +
      "https://cb/?code=c0de&state=st4te&iss=https%3A%2F%2Fas " +
      "body grant_type=refresh_token&refresh_token=r3fresh&client_secret=cl1ent",
  );
  for (const secret of ["abc.def.ghi", "dXNlcjpwYXNz", "c0de", "st4te", "r3fresh", "cl1ent"]) {
    assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
  }
  assert.match(out, /iss=https%3A%2F%2Fas/, "non-secret parameters stay");
  assert.match(out, /grant_type=refresh_token/);
});

Deno.test("Redactor redacts secret JSON keys but keeps our own state and code fields", () => {
  const redactor = new Redactor();
  const text = redactor.redactText('{"access_token":"t0ken","state":"ok","code":"config"}');
  assert.ok(!text.includes("t0ken"));
  assert.match(text, /"state":"ok"/);
  const value = redactor.redact({
    headers: { Authorization: "Bearer x1y2z3", "x-api-key": "k3y-value" },
    state: "needs-auth",
    nested: [{ client_secret: "sh-secret" }],
  });
  const json = JSON.stringify(value);
  for (const secret of ["x1y2z3", "k3y-value", "sh-secret"]) assert.ok(!json.includes(secret));
  assert.match(json, /"state":"needs-auth"/);
});

Deno.test("Logger writes redacted lines at or above its level only", () => {
  const lines: string[] = [];
  const logger = new Logger({ level: "info", write: (line) => lines.push(line) });
  logger.redactor.addSecret("canary-log-secret");
  logger.debug("hidden canary-log-secret");
  logger.info("token canary-log-secret", { authorization: "Bearer canary-log-secret" });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("canary-log-secret"));
  assert.match(lines[0], /^\[toolscript\] info token \[redacted:/);
});

Deno.test("fingerprints tell secrets apart without revealing them", () => {
  assert.notEqual(fingerprint("a-secret"), fingerprint("b-secret"));
  assert.equal(fingerprint("a-secret").length, 8);
});

Deno.test("parseLogLevel() reads the four levels in any case and flags anything else", () => {
  assert.deepEqual(parseLogLevel("debug"), { level: "debug" });
  assert.deepEqual(parseLogLevel("WARN"), { level: "warn" });
  assert.deepEqual(parseLogLevel(undefined), { level: "info" });
  assert.deepEqual(parseLogLevel(""), { level: "info" });
  for (const value of ["toString", "constructor", "__proto__", "verbose"]) {
    assert.deepEqual(parseLogLevel(value), { level: "info", unknown: value }, value);
  }
});

Deno.test("stripControlChars() removes escapes and bidi controls but keeps tab and newline", () => {
  assert.equal(stripControlChars("a\x1b[31mb\x07c\u202ed\te\nf\x9bg"), "a[31mbcd\te\nfg");
});

Deno.test("Logger lines carry no terminal control characters from the text they quote", () => {
  const lines: string[] = [];
  const logger = new Logger({ write: (line) => lines.push(line) });
  logger.warn('server "x" stderr: \x1b]0;owned\x07hello', { error: "\x1b[2Jbad" });
  assert.equal(lines.length, 1);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(lines[0]), JSON.stringify(lines[0]));
  assert.match(lines[0], /hello/);
});
