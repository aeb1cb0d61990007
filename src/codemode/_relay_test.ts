import assert from "node:assert/strict";
import { parseRelayFrame, RELAY_MARKER, RelayDemux } from "./_relay.ts";

const encoder = new TextEncoder();

/** Feeds `text` to a demux in pieces of `size` bytes; returns output and frames in order. */
function demux(text: string, size: number): Array<["out" | "frame", string]> {
  const events: Array<["out" | "frame", string]> = [];
  const decoder = new TextDecoder();
  const out = (bytes: Uint8Array) => {
    const piece = decoder.decode(bytes, { stream: true });
    const last = events.at(-1);
    if (last?.[0] === "out") last[1] += piece;
    else events.push(["out", piece]);
  };
  const d = new RelayDemux(out, (json) => events.push(["frame", json]));
  const bytes = encoder.encode(text);
  for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size));
  d.end();
  return events.filter(([kind, value]) => kind === "frame" || value !== "");
}

Deno.test("RelayDemux splits frames from output in order, however the bytes are chunked", () => {
  const call = JSON.stringify({ id: 1, server: "s", tool: "t", arguments: { x: "é\n" } });
  const text =
    `before é\n${RELAY_MARKER}${call}\nbetween\u0000x${RELAY_MARKER}{"ready":true}\nafter`;
  for (const size of [1, 2, 3, 7, 64, 4096]) {
    assert.deepEqual(demux(text, size), [
      ["out", "before é\n"],
      ["frame", call],
      ["out", "between\u0000x"],
      ["frame", `{"ready":true}`],
      ["out", "after"],
    ], `chunks of ${size}`);
  }
});

Deno.test("RelayDemux outputs an unfinished frame when the stream ends", () => {
  assert.deepEqual(demux(`a${RELAY_MARKER}{"id":1`, 5), [["out", `a${RELAY_MARKER}{"id":1`]]);
  assert.deepEqual(demux(`a${RELAY_MARKER.slice(0, 4)}`, 2), [
    ["out", `a${RELAY_MARKER.slice(0, 4)}`],
  ]);
});

Deno.test("parseRelayFrame accepts only well-formed calls and the ready frame", () => {
  assert.deepEqual(parseRelayFrame(`{"id":3,"server":"a","tool":"b","arguments":{"k":1}}`), {
    kind: "call",
    call: { id: 3, server: "a", tool: "b", name: "a__b", arguments: { k: 1 } },
  });
  assert.deepEqual(
    parseRelayFrame(`{"id":4,"server":"a","tool":"b","name":"w__b","arguments":{}}`),
    { kind: "call", call: { id: 4, server: "a", tool: "b", name: "w__b", arguments: {} } },
  );
  assert.deepEqual(parseRelayFrame(`{"ready":true}`), { kind: "ready" });
  for (
    const junk of [
      "not json",
      "[]",
      "null",
      `{"id":"3","server":"a","tool":"b"}`,
      `{"id":1.5,"server":"a","tool":"b"}`,
      `{"id":1,"server":"a","tool":"b","arguments":[1]}`,
      `{"id":1,"server":"a","tool":"b","name":7}`,
      `{"ready":true,"id":1}`,
    ]
  ) {
    assert.equal(parseRelayFrame(junk), undefined, junk);
  }
});
