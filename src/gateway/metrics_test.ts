import assert from "node:assert/strict";
import { GatewayMetrics, MetricsRegistry, UNKNOWN_LABEL } from "./metrics.ts";
import { parsePrometheusText, sampleValue } from "../../tests/gateway/_prometheus_text.ts";

Deno.test("MetricsRegistry renders counters, gauges and histograms a strict parser accepts", () => {
  const registry = new MetricsRegistry();
  const calls = registry.counter("x_calls_total", "Calls.\nTwo lines, one \\ backslash.", [
    "tool",
  ]);
  const gauge = registry.gauge("x_open", "Open things.");
  const latency = registry.histogram("x_seconds", "Latency.", ["server"], [0.1, 1]);
  calls.series("a").inc();
  calls.series("a").inc(2);
  calls.series("b").inc(-5); // ignored: counters only go up
  gauge.series().value = 3;
  const s = latency.series("s1");
  for (const v of [0.05, 0.1, 0.5, 7]) s.observe(v);

  const text = registry.render();
  const families = parsePrometheusText(text);
  assert.equal(families.get("x_calls_total")?.type, "counter");
  assert.equal(families.get("x_calls_total")?.help, "Calls.\nTwo lines, one \\ backslash.");
  assert.equal(sampleValue(families, "x_calls_total", { tool: "a" }), 3);
  assert.equal(sampleValue(families, "x_calls_total", { tool: "b" }), 0);
  assert.equal(sampleValue(families, "x_open"), 3);
  assert.equal(families.get("x_seconds")?.type, "histogram");
  assert.equal(sampleValue(families, "x_seconds_bucket", { server: "s1", le: "0.1" }), 2);
  assert.equal(sampleValue(families, "x_seconds_bucket", { server: "s1", le: "1" }), 3);
  assert.equal(sampleValue(families, "x_seconds_bucket", { server: "s1", le: "+Inf" }), 4);
  assert.equal(sampleValue(families, "x_seconds_count", { server: "s1" }), 4);
  assert.equal(sampleValue(families, "x_seconds_sum", { server: "s1" }), 7.65);
  assert.ok(text.endsWith("\n"));
});

Deno.test("label values with quotes, backslashes and line feeds are escaped and round-trip", () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter("x_total", "X.", ["tool"]);
  const awkward = 'say "hi"\\n\nnext} line,{';
  counter.series(awkward).inc();
  const text = registry.render();
  assert.equal(text.split("\n").length, 4, "the line feed in the value stays escaped");
  assert.equal(sampleValue(parsePrometheusText(text), "x_total", { tool: awkward }), 1);
});

Deno.test("MetricsRegistry refuses names the format does not allow", () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.counter("bad-name", "x"), TypeError);
  assert.throws(() => registry.counter("ok_total", "x", ["bad label"]), TypeError);
  assert.throws(() => registry.histogram("h", "x", ["le"], [1]), TypeError);
  assert.throws(() => registry.histogram("h", "x", [], [2, 1]), RangeError);
  registry.counter("twice", "x");
  assert.throws(() => registry.counter("twice", "x"), TypeError);
  assert.throws(() => registry.counter("c", "x", ["a"]).series(), RangeError);
});

Deno.test("GatewayMetrics counts calls, token requests and reads gauges at scrape time", () => {
  const metrics = new GatewayMetrics();
  const started = performance.now();
  const echo = metrics.toolCalls("local", "echo");
  assert.equal(metrics.toolCalls("local", "echo"), echo, "the series is created once");
  echo.record("ok", started);
  echo.record("error", started);
  metrics.toolCalls("local", undefined).record("failed", started);
  metrics.toolCalls(undefined, undefined).record("failed", started);
  metrics.countTokenRequest("machine", "client_credentials", "ok");
  metrics.countTokenRequest("machine", "client_credentials", "error");
  metrics.countTokenRequest("machine", "client_credentials", "ok");

  const families = parsePrometheusText(metrics.render({
    upstreams: [{ name: "local", state: "ok" }, { name: "machine", state: "error" }],
    sessionsOpen: 2,
  }));
  const calls = (server: string, tool: string, outcome: string) =>
    sampleValue(families, "toolscript_tool_calls_total", { server, tool, outcome });
  assert.equal(calls("local", "echo", "ok"), 1);
  assert.equal(calls("local", "echo", "error"), 1);
  assert.equal(calls("local", "echo", "failed"), 0);
  assert.equal(calls("local", UNKNOWN_LABEL, "failed"), 1);
  assert.equal(calls(UNKNOWN_LABEL, UNKNOWN_LABEL, "failed"), 1);
  assert.equal(
    sampleValue(families, "toolscript_tool_call_duration_seconds_count", { server: "local" }),
    3,
  );
  assert.equal(
    sampleValue(families, "toolscript_tool_call_duration_seconds_count", {
      server: UNKNOWN_LABEL,
    }),
    undefined,
    "no latency series for a name no server owns",
  );
  const tokens = (outcome: string) =>
    sampleValue(families, "toolscript_token_requests_total", {
      server: "machine",
      grant: "client_credentials",
      outcome,
    });
  assert.equal(tokens("ok"), 2);
  assert.equal(tokens("error"), 1);
  assert.equal(sampleValue(families, "toolscript_upstream_up", { server: "local" }), 1);
  assert.equal(sampleValue(families, "toolscript_upstream_up", { server: "machine" }), 0);
  assert.equal(sampleValue(families, "toolscript_sessions_open"), 2);

  const later = parsePrometheusText(metrics.render({ upstreams: [], sessionsOpen: 0 }));
  assert.equal(
    sampleValue(later, "toolscript_upstream_up", { server: "local" }),
    undefined,
    "a removed upstream's gauge goes away",
  );
});
