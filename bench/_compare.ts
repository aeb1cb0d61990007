/**
 * Turns two interleaved {@link Samples} sets into table rows: toolscript's figure, the
 * baseline's, and their ratio.
 */
import { type Samples, summarize, type Summary } from "./_measure.ts";
import { type BenchRow, formatMs, formatRate } from "./_table.ts";

/** What the rows of one comparison are called. */
export interface CompareLabels {
  group: string;
  /** Short name of toolscript's side, e.g. `gateway`. */
  subject: string;
  /** Short name of the baseline, e.g. `direct`. */
  baseline: string;
  /** Appended to each measure, e.g. `c=1`. */
  suffix: string;
}

/** Which figures to show. */
export type Figure = "p50" | "p99" | "rate";

function failures(s: Summary): string {
  return s.failures > 0 ? ` (${s.failures} failed)` : "";
}

/** Rows comparing `subject` with `baseline` on the chosen figures (ratio = subject / baseline). */
export function compareRows(
  labels: CompareLabels,
  subject: Samples,
  baseline: Samples,
  figures: Figure[] = ["p50", "p99", "rate"],
): BenchRow[] {
  const a = summarize(subject);
  const b = summarize(baseline);
  const raw = {
    subjectN: a.n,
    baselineN: b.n,
    subjectFailures: a.failures,
    baselineFailures: b.failures,
  };
  const row = (measure: string, av: string, bv: string, ratio: number, ideal: string) => ({
    group: labels.group,
    measure: `${measure}, ${labels.suffix}`,
    subject: `${labels.subject} ${av}${failures(a)}`,
    baseline: `${labels.baseline} ${bv}${failures(b)}`,
    ratio,
    ideal,
    raw,
  });
  const rows: BenchRow[] = [];
  for (const figure of figures) {
    if (figure === "p50") {
      rows.push({
        ...row("p50 latency", formatMs(a.p50Ms), formatMs(b.p50Ms), a.p50Ms / b.p50Ms, "≈ 1"),
        raw: { ...raw, subjectMs: a.p50Ms, baselineMs: b.p50Ms },
      });
    } else if (figure === "p99") {
      rows.push({
        ...row("p99 latency", formatMs(a.p99Ms), formatMs(b.p99Ms), a.p99Ms / b.p99Ms, "≈ 1"),
        raw: { ...raw, subjectMs: a.p99Ms, baselineMs: b.p99Ms },
      });
    } else {
      rows.push({
        ...row(
          "throughput",
          formatRate(a.callsPerSecond),
          formatRate(b.callsPerSecond),
          a.callsPerSecond / b.callsPerSecond,
          "≈ 1 (higher is better)",
        ),
        raw: { ...raw, subjectPerSecond: a.callsPerSecond, baselinePerSecond: b.callsPerSecond },
      });
    }
  }
  return rows;
}
