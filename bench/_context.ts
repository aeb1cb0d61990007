/**
 * What every row group gets from `bench/run.ts`: the run mode and a progress printer.
 */

/** Run-wide settings handed to each row group. */
export interface BenchContext {
  /** `--quick`: fewer samples, shorter blocks (the whole run well under a minute). */
  quick: boolean;
  /** Prints a progress line on stderr (stdout carries the table). */
  progress: (message: string) => void;
}
