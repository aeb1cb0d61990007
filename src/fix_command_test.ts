import assert from "node:assert/strict";
import {
  AuthError,
  NotAuthenticatedError,
  UnreadableTokenFileError,
  UsageError,
} from "./errors.ts";
import { renderErrorLines, renderFix, renderFixIn } from "./fix_command.ts";

const flagged = { configPath: "/tmp/my config.json" };

Deno.test("a login error carries facts; its message and fix name the default config", () => {
  const error = new NotAuthenticatedError("github", { scopes: ["repo", "read:org"] });
  assert.deepEqual(error.login, { server: "github", scopes: ["repo", "read:org"] });
  assert.equal(error.fix, `toolscript auth github --scope "repo read:org"`);
  assert.equal(
    error.message,
    `Cannot call server "github": no stored credentials; run: toolscript auth github --scope "repo read:org"`,
  );
  assert.equal(renderFix(error, {}), error.fix);
  assert.equal(renderFixIn(error.message, error, {}), error.message);
});

Deno.test("an edge with a --config renders it after the scopes and before further options", () => {
  const error = new NotAuthenticatedError("github", { scopes: ["repo"], reason: "expired" });
  assert.equal(
    renderFix(error, flagged),
    `toolscript auth github --scope "repo" --config /tmp/my config.json`,
  );
  assert.equal(
    renderErrorLines(error, flagged),
    `error: Cannot call server "github": expired; run: toolscript auth github --scope "repo" ` +
      `--config /tmp/my config.json\n`,
  );
  const timedOut = new AuthError("Timed out", {
    server: "demo",
    login: { server: "demo", options: "--timeout 600" },
  });
  assert.equal(timedOut.fix, "toolscript auth demo --timeout 600");
  assert.equal(
    renderErrorLines(timedOut, flagged),
    "error: Timed out\nfix: toolscript auth demo --config /tmp/my config.json --timeout 600\n",
  );
});

Deno.test("a corrupt credential file's fix is a login, rendered like any other", () => {
  const error = new UnreadableTokenFileError("/h/credentials/demo.json", "demo", "not JSON");
  assert.equal(renderFix(error, flagged), "toolscript auth demo --config /tmp/my config.json");
  assert.equal(error.code, "not_authenticated");
});

Deno.test("errors without a login fact keep their fix as is; anything else has none", () => {
  const usage = new UsageError("Unknown command", { fix: "toolscript --help" });
  assert.equal(renderFix(usage, flagged), "toolscript --help");
  assert.equal(
    renderErrorLines(usage, flagged),
    "error: Unknown command\nfix: toolscript --help\n",
  );
  assert.equal(renderFix(new Error("boom"), flagged), undefined);
  assert.equal(renderErrorLines("boom", flagged), "error: boom\n");
});
