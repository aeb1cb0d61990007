import assert from "node:assert/strict";
import { parseSseEvent, SseParser } from "./sse_parser.ts";

Deno.test("SseParser cuts events whatever the chunk boundaries, CRLF split included", () => {
  const stream = ': keepalive\r\n\r\nid: 7\r\nretry: 500\r\ndata: {"a":1}\r\n\r\n' +
    "event: message\ndata: line one\ndata: line two\n\ndata: last\r\r";
  const whole = new SseParser().push(stream);
  for (let size = 1; size <= stream.length; size++) {
    const parser = new SseParser();
    const events = [];
    for (let at = 0; at < stream.length; at += size) {
      events.push(...parser.push(stream.slice(at, at + size)));
    }
    assert.deepEqual(events, whole, `chunks of ${size}`);
  }
  assert.deepEqual(whole, [
    {},
    { id: "7", retry: 500, data: '{"a":1}' },
    { event: "message", data: "line one\nline two" },
    { data: "last" },
  ]);
});

Deno.test("SseParser keeps an unfinished event for the next text", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push("data: par"), []);
  assert.deepEqual(parser.push("tial\n"), []);
  assert.deepEqual(parser.push("\n"), [{ data: "partial" }]);
});

Deno.test("parseSseEvent: a field without a colon, an empty id, a retry that is not a number", () => {
  assert.deepEqual(parseSseEvent("data\nid\nretry: soon"), { data: "", id: "" });
  assert.deepEqual(parseSseEvent("data:no space\ndata:  two spaces"), {
    data: "no space\n two spaces",
  });
});
