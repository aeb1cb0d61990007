import assert from "node:assert/strict";
import { evaluateSearch } from "../fixtures/search_evaluation.ts";

Deno.test("search finds the tool a person would pick for most queries of the evaluation set", async () => {
  const result = await evaluateSearch();
  assert.ok(result.queries >= 30);
  // A floor well below the bench target (hit@3 ≥ 0.9): it guards against regressions.
  assert.ok(result.hitAt3 >= 0.75, JSON.stringify(result, null, 2));
  assert.ok(result.hitAt1 >= 0.6, JSON.stringify(result, null, 2));
});
