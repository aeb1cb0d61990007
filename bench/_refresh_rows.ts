/**
 * The two rows every token-economy run reports (groups 3 and 10): the token requests the
 * authorization server saw against the ideal of one per refresh window, and the calls that
 * failed for a caller.
 */
import type { Samples } from "./_measure.ts";
import { type BenchRow, firstLine, unavailableRow } from "./_table.ts";

/** What names a token-economy run's rows. */
export interface RefreshRowNames {
  group: string;
  /** The requests row's measure, e.g. `token requests over 5 lifetimes of 2 s`. */
  requestsMeasure: string;
  failuresMeasure: string;
}

/** A finished token-economy run. */
export interface RefreshRun extends RefreshRowNames {
  /** Token requests counted by the authorization server during the load. */
  requests: number;
  /** The requests row's subject, e.g. `7 token requests (0 requests refused …)`. */
  subject: string;
  /** Lifetimes the load lasted, and the refresh point: the ideal is one request per window. */
  lifetimes: number;
  refreshAt: number;
  samples: Samples;
  /** Raw measurements for the JSON file, the same on both rows. */
  raw: Record<string, number | string>;
}

/** How many calls a load made: the successful ones and the failed ones. */
export function callCount(samples: Samples): number {
  return samples.latenciesMs.length + samples.failures;
}

/** The requests row (ratio to the ideal) and the failures row (a count) of `run`. */
export function refreshRows(run: RefreshRun): BenchRow[] {
  const { group, samples, raw, lifetimes, refreshAt } = run;
  const ideal = lifetimes / refreshAt;
  const failureNote = samples.firstError ? `; first: ${firstLine(samples.firstError)}` : "";
  return [
    {
      group,
      measure: `${run.requestsMeasure} (ratio: requests / ideal)`,
      subject: run.subject,
      baseline: `ideal ${ideal} (one per refresh window: ${lifetimes} lifetimes ÷ ${refreshAt})`,
      ratio: run.requests / ideal,
      ideal: "≈ 1",
      raw,
    },
    {
      group,
      measure: run.failuresMeasure,
      subject: `${samples.failures} of ${callCount(samples)} calls failed${failureNote}`,
      baseline: "–",
      ratio: samples.failures,
      kind: "count",
      ideal: "0",
      raw,
    },
  ];
}

/** Both rows, unmeasured for `reason`. */
export function unavailableRefreshRows(names: RefreshRowNames, reason: string): BenchRow[] {
  return [
    unavailableRow(names.group, names.requestsMeasure, "≈ 1", reason),
    unavailableRow(names.group, names.failuresMeasure, "0", reason),
  ];
}
