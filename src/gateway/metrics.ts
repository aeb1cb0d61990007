/**
 * The gateway's metrics for `GET /metrics`: a small registry of labelled counters, gauges and
 * histograms rendered by hand in the Prometheus text exposition format 0.0.4, and
 * {@link GatewayMetrics}, the series the gateway keeps (tool calls, their latency, token
 * requests, upstream state, open sessions). No label ever carries an argument value or a
 * secret: servers are config names, tools only names an upstream listed.
 */
import type { TokenGrant, TokenRequestHook, TokenRequestOutcome } from "../auth/types.ts";

/** The `Content-Type` of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One counter series: a value that only goes up. */
export class CounterSeries {
  /** The current count. */
  value = 0;
  /** Adds `by` (default 1; negative amounts are ignored). */
  inc(by = 1): void {
    if (by > 0) this.value += by;
  }
}

/** One histogram series: observation counts per bucket, their sum and count. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  readonly counts: number[];
  /** Sum of every observed value. */
  sum = 0;
  /** Number of observations. */
  count = 0;
  readonly #bounds: readonly number[];

  /** A series over the metric's (sorted) bucket upper bounds. */
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  /** Records one value. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** A metric family: a name, its help text, label names, and series by label values. */
abstract class Family<S> {
  readonly #series = new Map<string, { values: readonly string[]; series: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`Invalid metric name "${name}"`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__") || label === "le") {
        throw new TypeError(`Invalid label name "${label}" of metric "${name}"`);
      }
    }
  }

  /** `counter`, `gauge` or `histogram`. */
  abstract readonly type: string;
  protected abstract create(): S;
  protected abstract renderSeries(out: string[], labels: string, series: S): void;

  /**
   * The series of these label values (one per label name, in order), created at first use.
   * Keep the returned series to count without a lookup.
   */
  series(...values: string[]): S {
    if (values.length !== this.labelNames.length) {
      throw new RangeError(`Metric "${this.name}" takes ${this.labelNames.length} label values`);
    }
    const key = JSON.stringify(values);
    let entry = this.#series.get(key);
    if (!entry) {
      entry = { values, series: this.create() };
      this.#series.set(key, entry);
    }
    return entry.series;
  }

  /** Forgets every series (for gauges rebuilt at each scrape). */
  clear(): void {
    this.#series.clear();
  }

  /** Appends the family's lines (HELP, TYPE, samples) to `out`. */
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const { values, series } of this.#series.values()) {
      this.renderSeries(out, labelText(this.labelNames, values), series);
    }
  }
}

/** A counter: series that only go up. */
export class Counter extends Family<CounterSeries> {
  /** Always `counter`. */
  readonly type = "counter";
  protected create(): CounterSeries {
    return new CounterSeries();
  }
  protected renderSeries(out: string[], labels: string, series: CounterSeries): void {
    out.push(`${this.name}${braced(labels)} ${formatValue(series.value)}`);
  }
}

/** One gauge series: a value set from outside (at scrape time, here). */
export class GaugeSeries {
  /** The current value. */
  value = 0;
}

/** A gauge: series whose values go up and down. */
export class Gauge extends Family<GaugeSeries> {
  /** Always `gauge`. */
  readonly type = "gauge";
  protected create(): GaugeSeries {
    return new GaugeSeries();
  }
  protected renderSeries(out: string[], labels: string, series: GaugeSeries): void {
    out.push(`${this.name}${braced(labels)} ${formatValue(series.value)}`);
  }
}

/** A histogram: cumulative `_bucket` series with `le`, plus `_sum` and `_count`. */
export class Histogram extends Family<HistogramSeries> {
  /** Always `histogram`. */
  readonly type = "histogram";
  /** Bucket upper bounds, ascending, without `+Inf`. */
  readonly buckets: readonly number[];

  /** @throws {RangeError} when `buckets` is empty, not ascending or not finite. */
  constructor(name: string, help: string, labelNames: readonly string[], buckets: number[]) {
    super(name, help, labelNames);
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]))
    ) {
      throw new RangeError(`Buckets of metric "${name}" must be finite and ascending`);
    }
    this.buckets = [...buckets];
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.buckets);
  }

  protected renderSeries(out: string[], labels: string, series: HistogramSeries): void {
    const sep = labels ? `${labels},` : "";
    let cumulative = 0;
    for (let i = 0; i <= this.buckets.length; i++) {
      cumulative += series.counts[i];
      const le = i < this.buckets.length ? formatValue(this.buckets[i]) : "+Inf";
      out.push(`${this.name}_bucket{${sep}le="${le}"} ${cumulative}`);
    }
    out.push(`${this.name}_sum${braced(labels)} ${formatValue(series.sum)}`);
    out.push(`${this.name}_count${braced(labels)} ${series.count}`);
  }
}

/** Metric families rendered together, in the order they were added. */
export class MetricsRegistry {
  readonly #families: Family<unknown>[] = [];

  /** Adds a counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Adds a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  /** Adds a histogram with these bucket upper bounds (ascending; `+Inf` is implied). */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: number[],
  ): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  #add<F extends Family<unknown>>(family: F): F {
    if (this.#families.some((f) => f.name === family.name)) {
      throw new TypeError(`Metric "${family.name}" is already registered`);
    }
    this.#families.push(family);
    return family;
  }

  /** Every family in the text exposition format 0.0.4, ending with a newline. */
  render(): string {
    const out: string[] = [];
    for (const family of this.#families) family.render(out);
    return out.join("\n") + "\n";
  }
}

/** `le` and sample values: Go's float syntax (`+Inf`, `-Inf`, `NaN`, else the JS number). */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function braced(labels: string): string {
  return labels ? `{${labels}}` : "";
}

function labelText(names: readonly string[], values: readonly string[]): string {
  return names.map((name, i) => `${name}="${escapeLabelValue(values[i])}"`).join(",");
}

/** A label value as the format wants it: `\`, `"` and line feeds escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** How a tool call ended: `ok`; `error`, an `isError` result; `failed`, no result at all. */
export type ToolCallOutcome = "ok" | "error" | "failed";

/** The label value for a tool or server name no upstream listed. */
export const UNKNOWN_LABEL = "(unknown)";

/** Default latency buckets, in seconds. */
export const CALL_DURATION_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The series of one (server, tool): a counter per outcome and the server's latency. */
export class ToolCallSeries {
  readonly #outcomes: Record<ToolCallOutcome, CounterSeries>;
  readonly #duration?: HistogramSeries;

  /** Built by {@link GatewayMetrics.toolCalls}. */
  constructor(outcomes: Record<ToolCallOutcome, CounterSeries>, duration?: HistogramSeries) {
    this.#outcomes = outcomes;
    this.#duration = duration;
  }

  /** Counts one call that began at `startedAt` (`performance.now()` ms) and ended now. */
  record(outcome: ToolCallOutcome, startedAt: number): void {
    this.#outcomes[outcome].inc();
    this.#duration?.observe((performance.now() - startedAt) / 1000);
  }
}

/** What {@link GatewayMetrics.render} reads at scrape time. */
export interface GatewaySnapshot {
  /** Every enabled upstream and its state (`ok` counts as up). */
  upstreams: Iterable<{ name: string; state: string }>;
  /** Connected client sessions. */
  sessionsOpen: number;
}

/**
 * The gateway's metrics. Tool calls cost two map lookups once their series exist; the series
 * are created on the first call of each (server, tool). Token requests are counted through
 * {@link GatewayMetrics.countTokenRequest}, handed to the credential providers as their
 * `onTokenRequest` hook. Gauges are read from a {@link GatewaySnapshot} at each scrape.
 */
export class GatewayMetrics {
  readonly #registry = new MetricsRegistry();
  readonly #calls = this.#registry.counter(
    "toolscript_tool_calls_total",
    "Tool calls by server, the upstream's tool name and outcome (ok, error: an isError " +
      "result, failed: a JSON-RPC error or no answer).",
    ["server", "tool", "outcome"],
  );
  readonly #duration = this.#registry.histogram(
    "toolscript_tool_call_duration_seconds",
    "Tool call latency through the gateway, by server.",
    ["server"],
    [...CALL_DURATION_BUCKETS],
  );
  readonly #tokens = this.#registry.counter(
    "toolscript_token_requests_total",
    "Requests to token endpoints by server, grant and outcome.",
    ["server", "grant", "outcome"],
  );
  readonly #up = this.#registry.gauge(
    "toolscript_upstream_up",
    "1 when the upstream server is connected (state ok), else 0.",
    ["server"],
  );
  readonly #sessions = this.#registry.gauge(
    "toolscript_sessions_open",
    "Client sessions connected to the gateway.",
  );
  /** server -> tool -> series. */
  readonly #byServer = new Map<string, Map<string, ToolCallSeries>>();

  /**
   * The series to record calls of `tool` (the upstream's own name, or undefined when the
   * upstream did not list it) on `server` (undefined when no server owns the name).
   */
  toolCalls(server: string | undefined, tool: string | undefined): ToolCallSeries {
    const serverLabel = server ?? UNKNOWN_LABEL;
    const toolLabel = tool ?? UNKNOWN_LABEL;
    let tools = this.#byServer.get(serverLabel);
    if (!tools) {
      tools = new Map();
      this.#byServer.set(serverLabel, tools);
    }
    let series = tools.get(toolLabel);
    if (!series) {
      const outcome = (o: ToolCallOutcome) => this.#calls.series(serverLabel, toolLabel, o);
      series = new ToolCallSeries(
        { ok: outcome("ok"), error: outcome("error"), failed: outcome("failed") },
        server === undefined ? undefined : this.#duration.series(serverLabel),
      );
      tools.set(toolLabel, series);
    }
    return series;
  }

  /** Counts one token-endpoint request; pass it as the credential providers' hook. */
  readonly countTokenRequest: TokenRequestHook = (
    server: string,
    grant: TokenGrant,
    outcome: TokenRequestOutcome,
  ) => {
    this.#tokens.series(server, grant, outcome).inc();
  };

  /** Every series in the text exposition format 0.0.4. */
  render(snapshot: GatewaySnapshot): string {
    this.#up.clear();
    for (const upstream of snapshot.upstreams) {
      this.#up.series(upstream.name).value = upstream.state === "ok" ? 1 : 0;
    }
    this.#sessions.series().value = snapshot.sessionsOpen;
    return this.#registry.render();
  }
}
