/**
 * Group 8: search quality — hit@1 and hit@3 of `toolscript search` on the fixed evaluation
 * set (tests/fixtures/search_evaluation.ts: 80 real tools, 39 queries). No baseline: the
 * target is the ideal.
 */
import type { BenchContext } from "./_context.ts";
import type { BenchRow } from "./_table.ts";
import { evaluateSearch } from "../tests/fixtures/search_evaluation.ts";

/** Runs the evaluation set once; it is deterministic, so there is nothing to repeat. */
export async function benchSearch(_ctx: BenchContext): Promise<BenchRow[]> {
  const result = await evaluateSearch();
  const group = `8 Search quality, ${result.queries} queries over 80 tools`;
  return [
    {
      group,
      measure: "hit@1 (expected tool ranked first)",
      subject: `toolscript ${result.hitAt1.toFixed(2)}`,
      baseline: "-",
      ratio: Number(result.hitAt1.toFixed(2)),
      kind: "count",
      ideal: "1 (target ≥ 0.8)",
      raw: { hitAt1: result.hitAt1 },
    },
    {
      group,
      measure: "hit@3 (expected tool in the first three)",
      subject: `toolscript ${result.hitAt3.toFixed(2)}`,
      baseline: "-",
      ratio: Number(result.hitAt3.toFixed(2)),
      kind: "count",
      ideal: "1 (target ≥ 0.9)",
      raw: { hitAt3: result.hitAt3, misses: result.misses.map((m) => m.query).join("; ") },
    },
  ];
}
