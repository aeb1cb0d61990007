/**
 * Sampling loops. Sides are always measured interleaved in one run (ABAB…, with the order
 * rotated every round) so that machine drift, thermal throttling and background noise hit
 * every side alike and cancel in the ratios.
 */

/** One operation to time; it throws when the call failed (an `isError` result counts). */
export type Call = () => Promise<void>;

/** Latencies of one side plus what it achieved. */
export interface Samples {
  /** Every successful call's latency, ms. */
  latenciesMs: number[];
  /** Failed calls (thrown or `isError`). */
  failures: number;
  /** Wall time spent on this side, ms (for calls/s). */
  elapsedMs: number;
  /** The first failure's message, if any. */
  firstError?: string;
}

/** Summary statistics of one side. */
export interface Summary {
  n: number;
  p50Ms: number;
  p99Ms: number;
  callsPerSecond: number;
  failures: number;
}

/** The value below which `p` (0..1) of the sorted values lie (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** The median of `values` (any order). */
export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

/** p50, p99 and throughput of one side. */
export function summarize(samples: Samples): Summary {
  const sorted = [...samples.latenciesMs].sort((a, b) => a - b);
  const calls = sorted.length + samples.failures;
  return {
    n: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    callsPerSecond: samples.elapsedMs > 0 ? (calls * 1000) / samples.elapsedMs : NaN,
    failures: samples.failures,
  };
}

function emptySamples(): Samples {
  return { latenciesMs: [], failures: 0, elapsedMs: 0 };
}

async function timeOne(call: Call, into: Samples): Promise<void> {
  const start = performance.now();
  try {
    await call();
    into.latenciesMs.push(performance.now() - start);
  } catch (error) {
    into.failures++;
    into.firstError ??= error instanceof Error ? error.message : String(error);
  }
  into.elapsedMs += performance.now() - start;
}

/** Options of {@link interleavedSequential}. */
export interface SequentialOptions {
  /** Timed calls per side. */
  samples: number;
  /** Untimed calls per side first (JIT, connection pools). */
  warmup: number;
}

/**
 * Concurrency 1: one call of each side per round, the side order rotated every round
 * (A B, B A, … for two sides). Returns one {@link Samples} per side, in the order given.
 */
export async function interleavedSequential(
  calls: Call[],
  options: SequentialOptions,
): Promise<Samples[]> {
  const scratch = calls.map(emptySamples);
  for (let i = 0; i < options.warmup; i++) {
    for (let s = 0; s < calls.length; s++) await timeOne(calls[s], scratch[s]);
  }
  const result = calls.map(emptySamples);
  for (let round = 0; round < options.samples; round++) {
    for (let k = 0; k < calls.length; k++) {
      const s = (round + k) % calls.length;
      await timeOne(calls[s], result[s]);
    }
  }
  return result;
}

/** Options of {@link interleavedConcurrent}. */
export interface ConcurrentOptions {
  /** Callers in flight at once. */
  concurrency: number;
  /** Length of one block of one side, ms. */
  blockMs: number;
  /** Blocks per side; sides alternate block by block (ABBA…). */
  blocks: number;
  /** An untimed block of this length per side first, ms. */
  warmupMs: number;
}

/** Runs `concurrency` callers against `call` for `durationMs`, adding to `into`. */
export async function runLoad(
  call: Call,
  concurrency: number,
  durationMs: number,
  into: Samples,
): Promise<void> {
  const started = performance.now();
  const end = started + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      try {
        await call();
        into.latenciesMs.push(performance.now() - start);
      } catch (error) {
        into.failures++;
        into.firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  into.elapsedMs += performance.now() - started;
}

/**
 * Concurrency N: blocks of `blockMs` with N callers on one side, then the other, the order
 * rotated every round. calls/s of a side = its calls / its total block time.
 */
export async function interleavedConcurrent(
  calls: Call[],
  options: ConcurrentOptions,
): Promise<Samples[]> {
  const scratch = calls.map(emptySamples);
  for (let s = 0; s < calls.length; s++) {
    await runLoad(calls[s], options.concurrency, options.warmupMs, scratch[s]);
  }
  const result = calls.map(emptySamples);
  for (let round = 0; round < options.blocks; round++) {
    for (let k = 0; k < calls.length; k++) {
      const s = (round + k) % calls.length;
      await runLoad(calls[s], options.concurrency, options.blockMs, result[s]);
    }
  }
  return result;
}
