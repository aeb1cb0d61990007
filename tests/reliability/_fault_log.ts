/**
 * The fault suite's recorder: which faults were tried and survived, every piece of output the
 * suite captured (CLI and gateway stdout/stderr, tool results, HTTP bodies), and the canary
 * secrets it planted, so the last spec can search all captured text for them.
 */

/** One captured piece of output. */
export interface Capture {
  /** Where it came from, e.g. `gateway stderr` or `result of local__crash`. */
  label: string;
  text: string;
}

/** One fault and the checks that it was survived. */
export interface FaultCase<Bench> {
  /** A sentence about the behaviour, used as the test step name. */
  name: string;
  /** Set (with a `// PRODUCT GAP:` comment) when the product does not behave so yet. */
  ignore?: boolean;
  /** True when `run` records its own faults with {@link FaultLog.fault} (a table of cases). */
  recordsOwnFaults?: boolean;
  run(bench: Bench): Promise<void>;
}

/** A canary found in captured output. */
export interface Leak {
  label: string;
  canary: string;
}

/** Records faults, captured output and canary secrets for one test file. */
export class FaultLog {
  readonly #tried: string[] = [];
  readonly #survived: string[] = [];
  readonly #captures: Capture[] = [];
  readonly #canaries: string[] = [];

  /** Creates a unique secret value `canary-<kind>-<uuid>` and remembers it. */
  canary(kind: string): string {
    const value = `canary-${kind}-${crypto.randomUUID()}`;
    this.#canaries.push(value);
    return value;
  }

  /** Every canary planted so far. */
  get canaries(): readonly string[] {
    return this.#canaries;
  }

  /** Names of the faults tried so far. */
  get tried(): readonly string[] {
    return this.#tried;
  }

  /** Names of the faults survived so far. */
  get survived(): readonly string[] {
    return this.#survived;
  }

  /** Keeps `value` (a string, or anything JSON can show) for the leak search. */
  capture(label: string, value: unknown): void {
    const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
    this.#captures.push({ label, text });
  }

  /**
   * Runs one fault: it counts as tried at once and as survived when `fn` resolves (its
   * assertions hold: a clear error, no crash, the next call answered).
   */
  async fault(name: string, fn: () => Promise<void>): Promise<void> {
    this.#tried.push(name);
    await fn();
    this.#survived.push(name);
  }

  /**
   * Every capture holding a canary, whole or by the first 13 characters of its UUID (so a
   * truncated secret counts too).
   */
  leaks(): Leak[] {
    const found: Leak[] = [];
    for (const canary of this.#canaries) {
      const uuid = canary.slice(canary.length - 36);
      const needles = [uuid, uuid.slice(0, 13)];
      for (const { label, text } of this.#captures) {
        if (needles.some((needle) => text.includes(needle))) found.push({ label, canary });
      }
    }
    return found;
  }

  /** Number of captures (to check the search had something to search). */
  get captureCount(): number {
    return this.#captures.length;
  }

  /** `faults tried: N, survived: N, secrets leaked: N`. */
  summary(): string {
    return `faults tried: ${this.#tried.length}, survived: ${this.#survived.length}, ` +
      `secrets leaked: ${this.leaks().length}`;
  }
}
