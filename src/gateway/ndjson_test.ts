import assert from "node:assert/strict";
import { LineReader, LineTooLongError, LineWriter } from "./ndjson.ts";
import { streamSink } from "./byte_pipes.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function collect(maxLineBytes?: number) {
  const messages: unknown[] = [];
  const errors: Error[] = [];
  const reader = new LineReader({
    onMessage: (message) => messages.push(message),
    onError: (error) => errors.push(error),
  }, maxLineBytes);
  return { reader, messages, errors };
}

Deno.test("a line split across chunks becomes one message once its newline arrives", () => {
  const { reader, messages } = collect();
  const line = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "héllo ✓" } });
  const encoded = bytes(line + "\n");
  // Cut inside the multi-byte characters too.
  const cuts = [3, 17, 18, 19, 30, encoded.length];
  let from = 0;
  for (const cut of cuts) {
    reader.push(encoded.subarray(from, cut));
    if (cut < encoded.length) assert.equal(messages.length, 0);
    from = cut;
  }
  assert.deepEqual(messages, [JSON.parse(line)]);
  assert.equal(reader.pendingBytes, 0);
});

Deno.test("several messages in one chunk come out in order, and a trailing part waits", () => {
  const { reader, messages } = collect();
  reader.push(bytes('{"id":1}\n{"id":2}\r\n\n{"id":3}\n{"id"'));
  assert.deepEqual(messages, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  assert.equal(reader.pendingBytes, 5);
  reader.push(bytes(":4}\n"));
  assert.deepEqual(messages.at(-1), { id: 4 });
});

Deno.test("a line that is not JSON, or a JSON scalar, is reported and the next line still read", () => {
  const { reader, messages, errors } = collect();
  reader.push(bytes('not json {\n42\n   \n{"id":5}\n'));
  assert.equal(errors.length, 2);
  assert.ok(errors.every((error) => error instanceof SyntaxError));
  assert.deepEqual(messages, [{ id: 5 }]);
});

Deno.test("a line over the limit is reported once, dropped to its newline, and reading goes on", () => {
  const { reader, messages, errors } = collect(64);
  reader.push(bytes(`{"big":"${"x".repeat(40)}`));
  reader.push(bytes("x".repeat(40)));
  reader.push(bytes("x".repeat(40)));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof LineTooLongError);
  assert.match(errors[0].message, /exceeded the stdio line limit of 64 bytes/);
  assert.equal(reader.pendingBytes, 0, "the dropped line holds no memory");
  reader.push(bytes('xx"}\n{"id":6}\n'));
  assert.deepEqual(messages, [{ id: 6 }]);
  assert.equal(errors.length, 1);
});

Deno.test("a line of exactly the limit is accepted, across chunks", () => {
  const line = JSON.stringify({ pad: "y".repeat(100) });
  const { reader, messages, errors } = collect(line.length);
  reader.push(bytes(line.slice(0, 50)));
  reader.push(bytes(line.slice(50) + "\n"));
  assert.deepEqual(errors, []);
  assert.deepEqual(messages, [JSON.parse(line)]);
});

Deno.test("the line writer keeps the order and batches messages sent during a write", async () => {
  const writes: string[] = [];
  const release = Promise.withResolvers<void>();
  let first = true;
  const output = new WritableStream<Uint8Array>({
    async write(chunk) {
      writes.push(new TextDecoder().decode(chunk));
      if (first) {
        first = false;
        await release.promise;
      }
    },
  });
  const writer = new LineWriter(streamSink(output));
  const sent = [writer.write({ n: 1 }), writer.write({ n: 2 }), writer.write({ n: 3 })];
  release.resolve();
  await Promise.all(sent);
  await writer.write({ n: 4 });
  assert.deepEqual(writes, ['{"n":1}\n', '{"n":2}\n{"n":3}\n', '{"n":4}\n']);
  await writer.close();
});
