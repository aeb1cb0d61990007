/**
 * The benchmark's result rows and how they are printed: one markdown table, plus the machine
 * and date above it. Every row compares toolscript with a baseline measured in the same run.
 */

/** One line of the result table. */
export interface BenchRow {
  /** Row group, e.g. `1 Gateway overhead, HTTP upstream`. */
  group: string;
  /** What is compared, e.g. `p50 latency, concurrency 1`. */
  measure: string;
  /** toolscript's figure with its label, e.g. `gateway 0.61 ms`. */
  subject: string;
  /** The baseline's figure with its label, e.g. `direct 0.32 ms`. */
  baseline: string;
  /** subject / baseline (or a count), when measured. */
  ratio?: number;
  /** How {@link BenchRow.ratio} is shown: `×` for a ratio (default), `count` for a count. */
  kind?: "ratio" | "count";
  /** The ideal value, e.g. `≈ 1`. */
  ideal: string;
  /** The release target for {@link BenchRow.ratio}, when the row has one (not a test assertion). */
  target?: BenchTarget;
  /** Why there is no figure, e.g. `n/a (not built yet)`. */
  unavailable?: string;
  /** Raw measurements for the JSON file (ms, counts, KiB). */
  raw?: Record<string, number | string>;
}

/** A bound the ratio should meet: at most (`≤`) or at least (`≥`) `value`. */
export interface BenchTarget {
  op: "≤" | "≥";
  value: number;
}

/** The target cell: the bound and whether this run met it. */
export function targetCell(row: BenchRow): string {
  const target = row.target;
  if (!target) return "";
  const bound = `${target.op} ${target.value}×`;
  if (row.unavailable || row.ratio === undefined) return bound;
  const met = target.op === "≤" ? row.ratio <= target.value : row.ratio >= target.value;
  return `${bound} ${met ? "(met)" : "(not met)"}`;
}

/** The machine a run happened on. */
export interface MachineInfo {
  cores: number;
  memoryMiB: number;
  cpu: string;
  os: string;
  deno: string;
  v8: string;
  typescript: string;
  /** 1, 5 and 15 minute load averages when the run started (other work on the machine). */
  loadAverage: number[];
}

/** A whole run, as written to `bench/results/latest.json`. */
export interface BenchReport {
  date: string;
  quick: boolean;
  machine: MachineInfo;
  durationSeconds: number;
  rows: BenchRow[];
}

/** A row that could not be measured (a missing module, a failed peer). */
export function unavailableRow(
  group: string,
  measure: string,
  ideal: string,
  reason: string,
): BenchRow {
  return { group, measure, subject: "–", baseline: "–", ideal, unavailable: `n/a (${reason})` };
}

/** The first line of an error's message, shortened for a table cell. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0].slice(0, 160);
}

/** Formats milliseconds with three significant digits. */
export function formatMs(ms: number): string {
  return `${significant(ms)} ms`;
}

/** Formats a rate in calls per second. */
export function formatRate(perSecond: number): string {
  return `${Math.round(perSecond)} calls/s`;
}

/** Formats KiB as MiB. */
export function formatMiB(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** Three significant digits, no exponent. */
export function significant(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(digits, 4));
}

function ratioCell(row: BenchRow): string {
  if (row.unavailable) return row.unavailable;
  if (row.ratio === undefined) return "–";
  if (row.kind === "count") return String(row.ratio);
  return `${row.ratio.toFixed(2)}×`;
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** The header lines (date, machine) printed above the table. */
export function renderHeader(report: BenchReport): string {
  const m = report.machine;
  return [
    `Date: ${report.date}${report.quick ? " (--quick)" : ""}, ` +
    `run took ${report.durationSeconds.toFixed(0)} s`,
    `Machine: ${m.cores} cores (${m.cpu}), ${
      (m.memoryMiB / 1024).toFixed(1)
    } GiB memory, ${m.os}, ` +
    `load average ${m.loadAverage.map((n) => n.toFixed(1)).join(" ")} at start`,
    `Deno ${m.deno} (V8 ${m.v8}, TypeScript ${m.typescript})`,
  ].join("  \n");
}

/** The markdown table of every row. */
export function renderTable(rows: BenchRow[]): string {
  const lines = [
    "| Group | Measure | toolscript | baseline | ratio / count | target | ideal |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  let lastGroup = "";
  for (const row of rows) {
    const group = row.group === lastGroup ? "" : row.group;
    lastGroup = row.group;
    const cells = [
      group,
      row.measure,
      row.subject,
      row.baseline,
      ratioCell(row),
      targetCell(row),
      row.ideal,
    ];
    lines.push(`| ${cells.map(escapeCell).join(" | ")} |`);
  }
  return lines.join("\n");
}
