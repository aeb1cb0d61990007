/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for the `/metrics` specs.
 *
 * Why not an npm parser: the one well-used package (`parse-prometheus-text-format` 1.1.1) loses
 * the labels, `_sum` and `_count` of labelled histograms (its issue #13, open since 2020, and
 * the fix in PR #8 was never merged), and the gateway's latency histogram is labelled by server.
 *
 * Strict means it throws a `SyntaxError` on anything the format does not allow: a bad metric or
 * label name, an unknown escape, a duplicate series or label, a `TYPE` after its samples or
 * given twice, a family split into separate groups, a text without its final line feed, and a
 * histogram whose buckets are not cumulative or whose `+Inf` bucket differs from `_count`.
 */

/** One sample line. */
export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`, … for histograms). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: HELP, TYPE and every sample. */
export interface MetricFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** Parses `text` into families by name. @throws {SyntaxError} on any deviation. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new SyntaxError("Missing final line feed");
  const families = new Map<string, MetricFamily>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const lines = text.split("\n");
  lines.pop();
  const enter = (name: string) => {
    if (current === name) return;
    if (current !== undefined) finished.add(current);
    if (finished.has(name)) throw new SyntaxError(`Family "${name}" is split into groups`);
    current = name;
  };
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: "untyped", samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}`;
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!METRIC_NAME.test(name)) throw new SyntaxError(`${where}: bad metric name "${name}"`);
      enter(name);
      const f = family(name);
      if (kind === "HELP") {
        if (f.help !== undefined) throw new SyntaxError(`${where}: second HELP of "${name}"`);
        f.help = unescape(rest, false, where);
      } else {
        if (!TYPES.has(rest)) throw new SyntaxError(`${where}: bad type "${rest}"`);
        if (f.samples.length > 0 || seen.has(`type:${name}`)) {
          throw new SyntaxError(`${where}: TYPE of "${name}" after its samples or twice`);
        }
        seen.add(`type:${name}`);
        f.type = rest as MetricFamily["type"];
      }
      continue;
    }
    if (line.startsWith("#")) continue;
    const sample = parseSample(line, where);
    const owner = ownerOf(sample.name, families);
    enter(owner);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new SyntaxError(`${where}: duplicate series`);
    seen.add(key);
    family(owner).samples.push(sample);
  }
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** The family a sample belongs to: `x` for `x_bucket`/`x_sum`/`x_count` of histogram `x`. */
function ownerOf(name: string, families: Map<string, MetricFamily>): string {
  const match = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (match && families.get(match[1])?.type === "histogram") return match[1];
  return name;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new SyntaxError(`${where}: bad sample name`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    while (line[i] !== "}") {
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!labelMatch || !LABEL_NAME.test(labelMatch[0])) {
        throw new SyntaxError(`${where}: bad label name`);
      }
      const label = labelMatch[0];
      i += label.length;
      if (line.slice(i, i + 2) !== '="') throw new SyntaxError(`${where}: expected ="`);
      i += 2;
      let raw = "";
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\") {
          raw += line.slice(i, i + 2);
          i += 2;
        } else {
          raw += line[i++];
        }
      }
      if (line[i] !== '"') throw new SyntaxError(`${where}: unterminated label value`);
      i++;
      if (label in labels) throw new SyntaxError(`${where}: label "${label}" twice`);
      labels[label] = unescape(raw, true, where);
      if (line[i] === ",") i++;
      else if (line[i] !== "}") throw new SyntaxError(`${where}: expected , or }`);
    }
    i++;
  }
  const rest = /^ (\S+)(?: (-?\d+))?$/.exec(line.slice(i));
  if (!rest) throw new SyntaxError(`${where}: bad value part`);
  return { name, labels, value: parseValue(rest[1], where) };
}

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new SyntaxError(`${where}: bad value "${text}"`);
  }
  return Number(text);
}

/** Undoes `\\`, `\n` and (in label values) `\"`; any other escape is an error. */
function unescape(text: string, quoted: boolean, where: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quoted) return '"';
    throw new SyntaxError(`${where}: bad escape "\\${c}"`);
  });
}

function checkHistogram(f: MetricFamily): void {
  const bySeries = new Map<string, { buckets: [number, number][]; count?: number }>();
  const keyOf = (labels: Record<string, string>) =>
    JSON.stringify(Object.entries(labels).filter(([k]) => k !== "le").sort());
  const entry = (labels: Record<string, string>) => {
    const key = keyOf(labels);
    let e = bySeries.get(key);
    if (!e) {
      e = { buckets: [] };
      bySeries.set(key, e);
    }
    return e;
  };
  for (const s of f.samples) {
    if (s.name === `${f.name}_bucket`) {
      if (s.labels.le === undefined) throw new SyntaxError(`${f.name}: bucket without le`);
      entry(s.labels).buckets.push([parseValue(s.labels.le, f.name), s.value]);
    } else if (s.name === `${f.name}_count`) {
      entry(s.labels).count = s.value;
    } else if (s.name !== `${f.name}_sum`) {
      throw new SyntaxError(`${f.name}: unexpected sample "${s.name}"`);
    }
  }
  for (const [key, { buckets, count }] of bySeries) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0]) || buckets[i][1] < buckets[i - 1][1]) {
        throw new SyntaxError(`${f.name}${key}: buckets not ascending and cumulative`);
      }
    }
    const last = buckets.at(-1);
    if (!last || last[0] !== Infinity || last[1] !== count) {
      throw new SyntaxError(`${f.name}${key}: +Inf bucket missing or not equal to _count`);
    }
  }
}

/**
 * The value of the one sample named `name` whose labels include `labels`; undefined when there
 * is none. @throws {Error} when several match.
 */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matches = [...families.values()].flatMap((f) => f.samples).filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (matches.length > 1) throw new Error(`${matches.length} samples match ${name}`);
  return matches[0]?.value;
}
