import assert from "node:assert/strict";
import { join } from "node:path";

const PROBE = join(import.meta.dirname!, "_endpoint_retention_probe.ts");

Deno.test("the HTTP endpoint keeps nothing of an answered request once it is collected", async () => {
  // Each request used to race the endpoint's "closing" promise, which stays pending for the
  // gateway's life: every race left a reaction on it that kept the answered Response reachable.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", PROBE],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, stderr);
  const { answered, alive } = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(answered, 200);
  // The last one may still sit in a register or the probe's own scope.
  assert.ok(alive <= 1, `${alive} of ${answered} answered responses are still reachable`);
});
